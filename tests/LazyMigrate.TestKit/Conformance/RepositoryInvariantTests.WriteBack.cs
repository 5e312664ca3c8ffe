using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// <see cref="WriteBackMode.Sync"/> under concurrency (docs/write-back.md): saves and deletes of one id, on one
/// instance or several, reach the two stores in the same order and never interleave with a migration of the id, a lock
/// lost in the middle of a write-back is repaired, and old readers (a rollback to the old API)
/// lose nothing while the writes go on. Every test ends with the two stores agreeing: for every id, the old store holds
/// the reverse-mapped value of the new store, or neither holds one; the traffic tests check it after every round too.
/// </summary>
public abstract partial class RepositoryInvariantTests
{
    /// <summary>The writer tasks of the traffic tests, half on each of two instances.</summary>
    private const int Writers = 4;

    private static void SyncWriteBack(LazyMigrationOptions options) => options.WriteBackMode = WriteBackMode.Sync;

    /// <summary>
    /// Gets whether the lock tells a write-back that it was lost (<see cref="IMigrationLockHandle.HandleLostToken"/>),
    /// so that the write-back repairs the old store. False for a lock that cannot tell, such as DistributedLock's
    /// without <c>watchForLoss</c>: the stale old-store write then stands until the next write of the id
    /// (docs/write-back.md, "A lost lock").
    /// </summary>
    protected virtual bool WriteBackNoticesLockLoss => true;

    /// <summary>
    /// Gets whether the lock learns of a loss only some time after it (a lease's next renewal): the lock-loss test then
    /// waits until it has, before the write-back goes on. False for a lock that learns of it at once or at its release
    /// at the latest, where the write-back checks it.
    /// </summary>
    protected virtual bool LockLearnsOfLossLate => false;

    [Fact]
    public async Task SyncWriteBackHeldBeforeItsOldWrite_ASecondInstanceWritingTheIdWaits_BothStoresEndAlike()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var holding = new HoldingOldStore(old);
        await using var first = await CreateInstanceAsync(holding, counting, SyncWriteBack);
        int version = 0;
        foreach (bool secondDeletes in new[] { false, true, false })
        {
            var probe = new LockProbe();
            await using var second = await CreateProbingInstanceAsync(old, counting, probe);
            PauseGate held = holding.HoldNextWrite();

            Task firstSave = Repository(first).SaveAsync(Id(0), Customer.Create(Id(0), ++version)).AsTask();
            await held.Reached.WaitAsync(Patience); // in the new store, not yet in the old one, lock held
            Task secondWrite = secondDeletes
                ? Repository(second).DeleteAsync(Id(0)).AsTask()
                : Repository(second).SaveAsync(Id(0), Customer.Create(Id(0), ++version)).AsTask();
            await Task.WhenAny(probe.Refused, secondWrite).WaitAsync(Patience);
            bool secondFoundTheLockHeld = probe.Refused.IsCompleted;
            held.Release();
            await Task.WhenAll(firstSave, secondWrite).WaitAsync(Patience);

            await AssertStoresAgreeAsync(old, counting, Id(0));
            Assert.True(secondFoundTheLockHeld, "the second instance wrote while the first's write-back held the lock");
            Assert.Equal(
                secondDeletes ? NewStoreState.Deleted : NewStoreState.Found,
                (await counting.FindAsync(Id(0))).State
            );
        }
    }

    [Fact]
    public async Task SavesAndDeletesOfAFewIds_FromTwoInstances_ManyRounds_BothStoresEndAlike()
    {
        const int Ids = 3;
        const int Rounds = 30;
        var (old, counting) = await CreateStoresAsync(Ids);
        var yielding = new HoldingOldStore(old, yieldBeforeEachWrite: true);
        await using var first = await CreateInstanceAsync(yielding, counting, SyncWriteBack);
        await using var second = await CreateInstanceAsync(old, counting, SyncWriteBack);
        ServiceProvider[] instances = [first, second];
        var rounds = new RoundGate(Writers, Rounds, round => FindDisagreementsAsync(old, counting, Id(round % Ids)));

        await StartingGate.RunAsync(
            Writers,
            async writer =>
            {
                var repository = Repository(instances[writer % 2]);
                for (int round = 0; round < Rounds; round++)
                {
                    // Every writer writes the round's id at once: without the lock, their two writes interleave.
                    await rounds.AllArrivedAsync(round);
                    await WriteAsync(repository, Id(round % Ids), writer, round);
                }

                return writer;
            }
        );

        rounds.AssertEveryRoundAgreed();
        await AssertStoresAgreeAsync(old, counting, [.. Enumerable.Range(0, Ids).Select(Id)]);
    }

    [Fact]
    public async Task SaveRacingAMigrationHeldAfterItsOldRead_WaitsForIt_NoLostUpdate_BothStoresEndAlike()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var pause = new PauseGate();
        var probe = new LockProbe();
        await using var migrating = await CreateInstanceAsync(
            old,
            new CountingNewStore<Customer>(counting, pause),
            SyncWriteBack
        );
        await using var writer = await CreateProbingInstanceAsync(old, counting, probe);

        Task<Customer?> migration = Repository(migrating).GetAsync(Id(0)).AsTask();
        await pause.Reached.WaitAsync(Patience); // read, mapped, about to insert, lock held
        Task saving = Repository(writer).SaveAsync(Id(0), Customer.Create(Id(0), 42)).AsTask();
        await Task.WhenAny(probe.Refused, saving).WaitAsync(Patience);
        bool saveFoundTheLockHeld = probe.Refused.IsCompleted;
        pause.Release();
        await Task.WhenAll(migration, saving).WaitAsync(Patience);

        Assert.True(saveFoundTheLockHeld, "the save wrote while a migration of the id held its lock");
        Assert.Equal(0, (await migration)!.Version); // the migration came first, whole
        await DrainEventsAsync();
        Assert.Single(_events);
        Assert.Equal(42, (await Repository(migrating).GetAsync(Id(0)))!.Version); // then the save, not lost
        await AssertStoresAgreeAsync(old, counting, Id(0));
    }

    [Fact]
    public async Task LockLostBetweenAWriteBacksTwoWrites_AnotherInstanceSaves_TheStaleOldWriteIsRepaired()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var holding = new HoldingOldStore(old);
        var observing = LockLearnsOfLossLate ? new ObservingLockProvider(await CreateLockProviderAsync()) : null;
        await using var first = await CreateInstanceAsync(holding, counting, SyncWriteBack, lockProvider: observing);
        await using var second = await CreateInstanceAsync(old, counting, SyncWriteBack);
        PauseGate held = holding.HoldNextWrite();

        Task firstSave = Repository(first).SaveAsync(Id(0), Customer.Create(Id(0), 1)).AsTask();
        await held.Reached.WaitAsync(Patience); // in the new store, not yet in the old one, lock held
        await LoseLockAsync(MigrationLockKeys.For("LegacyCustomer->Customer", Id(0)));
        if (observing is not null)
        {
            // Known lost before the first goes on, so the outcome does not depend on when the next renewal comes.
            IMigrationLockHandle handle = await observing.First.WaitAsync(Patience);
            Assert.True(handle.HandleLostToken.CanBeCanceled, "the lock cannot tell that it was lost");
            await LostAsync(handle.HandleLostToken).WaitAsync(Patience);
        }

        // Any other lock knows of the loss by its release, after the first's old-store write, where the write-back
        // checks it: nothing to wait for.
        await Repository(second).SaveAsync(Id(0), Customer.Create(Id(0), 2)).AsTask().WaitAsync(Patience);
        held.Release(); // the first's old-store write of version 1 lands after the second's version 2
        await firstSave.WaitAsync(Patience);

        Assert.Equal(2, (await counting.FindAsync(Id(0))).Value!.Version);
        if (WriteBackNoticesLockLoss)
        {
            // The first saw its lock lost, locked the id again and copied the new store's version 2 over its own.
            await AssertStoresAgreeAsync(old, counting, Id(0));
        }
        else
        {
            // The documented limit of a lock that cannot tell: the stale write stands until the next write of the id.
            Assert.Equal(1, (await old.FindAsync(Id(0)))!.Version);
            await Repository(second).SaveAsync(Id(0), Customer.Create(Id(0), 3));
            await AssertStoresAgreeAsync(old, counting, Id(0));
        }
    }

    [Fact]
    public async Task RollbackUnderTraffic_OldReadersSeeOnlyWrittenValues_AndAtTheEndEveryWrite()
    {
        const int Ids = 4;
        const int Rounds = 25;
        var (old, counting) = await CreateStoresAsync(Ids);
        var yielding = new HoldingOldStore(old, yieldBeforeEachWrite: true);
        await using var first = await CreateInstanceAsync(yielding, counting, SyncWriteBack);
        await using var second = await CreateInstanceAsync(old, counting, SyncWriteBack);
        ServiceProvider[] instances = [first, second];
        var rounds = new RoundGate(Writers, Rounds, round => FindDisagreementsAsync(old, counting, Id(round % Ids)));
        var written = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        for (int n = 0; n < Ids; n++)
        {
            written[Describe(Id(n), LegacyCustomer.Create(Id(n), n))] = 0; // the seeded legacy records
        }

        var neverWritten = new ConcurrentQueue<string>();
        var writersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var passEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The rolled-back old API: reads the old store itself, over and over, while the writers run; a value no writer
        // wrote (nor the seeding) is kept for the failure message.
        Task reader = Task.Run(async () =>
        {
            do
            {
                for (int n = 0; n < Ids; n++)
                {
                    string value = Describe(Id(n), await old.FindAsync(Id(n)));
                    if (!written.ContainsKey(value))
                    {
                        neverWritten.Enqueue(value);
                    }
                }

                Interlocked
                    .Exchange(ref passEnded, new(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult();
                await Task.Delay(1); // a short pause, not a spin: the writers need the cores
            } while (!writersDone.Task.IsCompleted);
        });
        try
        {
            await StartingGate.RunAsync(
                Writers,
                async writer =>
                {
                    var repository = Repository(instances[writer % 2]);
                    for (int round = 0; round < Rounds; round++)
                    {
                        string id = Id(round % Ids);
                        if (writer == 0 && round == 12)
                        {
                            // Mid-traffic, the reader reads every id at least once: a pass ends, a whole one runs.
                            await Volatile.Read(ref passEnded).Task.WaitAsync(Patience);
                            await Volatile.Read(ref passEnded).Task.WaitAsync(Patience);
                        }

                        written[WrittenAs(id, writer, round)] = 0; // before the write: the reader may see it at once
                        await rounds.AllArrivedAsync(round);
                        await WriteAsync(repository, id, writer, round);
                    }

                    return writer;
                }
            );
        }
        finally
        {
            writersDone.TrySetResult();
        }

        await reader.WaitAsync(Patience);
        Assert.True(neverWritten.IsEmpty, "an old reader saw values never written: " + string.Join("; ", neverWritten));
        rounds.AssertEveryRoundAgreed();
        await AssertStoresAgreeAsync(old, counting, [.. Enumerable.Range(0, Ids).Select(Id)]);
    }

    [Fact]
    public async Task SyncWriteBackThroughAReverseMerger_MergesWithTheOldRecordAsItIsNow_OrWithNullWhereItIsMissing()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var seen = new ConcurrentQueue<string>();
        await using var instance = await CreateInstanceAsync(
            old,
            counting,
            SyncWriteBack,
            builder: b =>
                b.UseReverseMerger(
                    (customer, current) =>
                    {
                        seen.Enqueue($"{customer.Id}: {current?.Version.ToString() ?? "null"}");

                        // The version stands for a field only the old model has: the merger keeps the old store's.
                        return new LegacyCustomer
                        {
                            Id = customer.Id,
                            FullName = $"{customer.FirstName} {customer.LastName}",
                            Version = current?.Version ?? -1,
                        };
                    }
                )
        );
        var repository = Repository(instance);

        await old.UpsertAsync(Id(0), LegacyCustomer.Create(Id(0), 77)); // the legacy application's own write
        await repository.SaveAsync(Id(0), Customer.Create(Id(0), 5));
        LegacyCustomer? saved = await old.FindAsync(Id(0));
        await repository.SaveAsync("brand-new", Customer.Create("brand-new", 6));
        await repository.DeleteAsync(Id(0));
        await repository.SaveAsync(Id(0), Customer.Create(Id(0), 8));

        Assert.Equal(("First5 Last5", 77), (saved!.FullName, saved.Version));
        Assert.Equal(-1, (await old.FindAsync("brand-new"))!.Version);
        LegacyCustomer? recreated = await old.FindAsync(Id(0));
        Assert.Equal(("First8 Last8", -1), (recreated!.FullName, recreated.Version));
        Assert.Equal([$"{Id(0)}: 77", "brand-new: null", $"{Id(0)}: null"], seen.ToArray());
        Assert.Equal(8, (await counting.FindAsync(Id(0))).Value!.Version);
    }

    /// <summary>Writer <paramref name="writer"/>'s write of <paramref name="round"/>: every fifth a delete.</summary>
    private static ValueTask WriteAsync(
        IMigratingRepository<LegacyCustomer, Customer> repository,
        string id,
        int writer,
        int round
    ) =>
        IsDelete(round)
            ? repository.DeleteAsync(id)
            : repository.SaveAsync(id, Customer.Create(id, VersionOf(writer, round)));

    private static bool IsDelete(int round) => round % 5 == 3;

    private static int VersionOf(int writer, int round) => ((writer + 1) * 1000) + round;

    /// <summary>How the old store shows writer <paramref name="writer"/>'s write of <paramref name="round"/>.</summary>
    private static string WrittenAs(string id, int writer, int round) =>
        IsDelete(round) ? Describe(id, null) : Describe(id, LegacyCustomer.Create(id, VersionOf(writer, round)));

    private static string Describe(string id, LegacyCustomer? record) =>
        record is null ? $"{id}: nothing" : $"{id}: '{record.FullName}' v{record.Version} ({record.Id})";

    private static Task LostAsync(CancellationToken token)
    {
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => lost.TrySetResult());
        return lost.Task;
    }

    /// <summary>
    /// Asserts that, for every id, the old store holds the reverse-mapped value of the new store, or nothing where the
    /// new store holds a tombstone.
    /// </summary>
    private async Task AssertStoresAgreeAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        params string[] ids
    )
    {
        IReadOnlyList<string> disagreements = await FindDisagreementsAsync(old, neu, ids);
        Assert.True(disagreements.Count == 0, "the stores disagree: " + string.Join("; ", disagreements));
    }

    /// <summary>
    /// The ids for which the old store does not hold the reverse-mapped value of the new store (or nothing where the
    /// new store holds a tombstone), each described with both stores' values.
    /// </summary>
    private async Task<IReadOnlyList<string>> FindDisagreementsAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        params string[] ids
    )
    {
        var disagreements = new List<string>();
        foreach (string id in ids)
        {
            NewStoreRead<Customer> current = await neu.FindAsync(id);
            string expected = current.State switch
            {
                NewStoreState.Found => Describe(id, _mapper.MapBack(current.Value!)),
                NewStoreState.Deleted => Describe(id, null),
                _ => $"{id}: missing from the new store",
            };
            string actual = Describe(id, await old.FindAsync(id));
            if (expected != actual)
            {
                disagreements.Add($"new store: [{expected}], old store: [{actual}]");
            }
        }

        return disagreements;
    }

    /// <summary>
    /// An instance with write-back whose locks are taken through <paramref name="probe"/>: by its lock provider, or by
    /// its new store where the new store holds the locks.
    /// </summary>
    private async Task<ServiceProvider> CreateProbingInstanceAsync(
        IOldStore<LegacyCustomer> old,
        CountingNewStore<Customer> counting,
        LockProbe probe
    ) =>
        LockInNewStore
            ? await CreateInstanceAsync(old, new CountingNewStore<Customer>(counting, lockProbe: probe), SyncWriteBack)
            : await CreateInstanceAsync(
                old,
                counting,
                SyncWriteBack,
                lockProvider: new ProbingLockProvider(await CreateLockProviderAsync(), probe)
            );

    /// <summary>
    /// An old store whose next write, once <see cref="HoldNextWrite"/> is called, waits at a gate before it reaches the
    /// store: a write-back held between its new-store write and its old-store write, with its lock held. With
    /// <paramref name="yieldBeforeEachWrite"/>, every write first yields its thread: given to one instance only, its
    /// write-backs' old-store writes fall behind the other instance's, whose writes then land between a write-back's
    /// two writes unless a lock keeps them out (an in-memory store would otherwise write synchronously, in order).
    /// </summary>
    private sealed class HoldingOldStore(IOldStore<LegacyCustomer> inner, bool yieldBeforeEachWrite = false)
        : IOldStore<LegacyCustomer>
    {
        private PauseGate? _next;

        public PauseGate HoldNextWrite()
        {
            var gate = new PauseGate();
            Volatile.Write(ref _next, gate);
            return gate;
        }

        public ValueTask<LegacyCustomer?> FindAsync(string id, CancellationToken cancellationToken = default) =>
            inner.FindAsync(id, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, LegacyCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        ) => inner.FindManyAsync(ids, cancellationToken);

        public IAsyncEnumerable<KeyValuePair<string, LegacyCustomer>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => inner.ScanAsync(afterId, cancellationToken);

        public async ValueTask UpsertAsync(
            string id,
            LegacyCustomer entity,
            CancellationToken cancellationToken = default
        )
        {
            await PauseIfHeldAsync(cancellationToken);
            await inner.UpsertAsync(id, entity, cancellationToken);
        }

        public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
        {
            await PauseIfHeldAsync(cancellationToken);
            await inner.DeleteAsync(id, cancellationToken);
        }

        private async Task PauseIfHeldAsync(CancellationToken cancellationToken)
        {
            if (yieldBeforeEachWrite)
            {
                await Task.Yield();
            }

            if (Interlocked.Exchange(ref _next, null) is { } gate)
            {
                await gate.PauseAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Lets the writers into each round together: a round starts once every writer has arrived. A writer arrives at a
    /// round only once its write of the round before is done, so the last to arrive first compares the two stores for
    /// the ids written in the round before (<c>findDisagreements</c>), then lets the round start: each round's writes
    /// are checked, not only each id's last. A disagreement (or a failing comparison) is recorded, not thrown, so the
    /// other writers are never left at the gate; <see cref="AssertEveryRoundAgreed"/> fails on them at the end. The
    /// last round is for the test's final comparison.
    /// </summary>
    private sealed class RoundGate(int writers, int rounds, Func<int, Task<IReadOnlyList<string>>> findDisagreements)
    {
        private readonly int[] _arrived = new int[rounds];
        private readonly TaskCompletionSource[] _started =
        [
            .. Enumerable
                .Range(0, rounds)
                .Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)),
        ];

        private readonly ConcurrentQueue<string> _disagreements = new();

        public async Task AllArrivedAsync(int round)
        {
            if (Interlocked.Increment(ref _arrived[round]) == writers)
            {
                try
                {
                    if (round > 0)
                    {
                        await CheckAsync(round - 1);
                    }
                }
                finally
                {
                    _started[round].TrySetResult();
                }
            }

            await _started[round].Task.WaitAsync(Patience);
        }

        /// <summary>Fails if, after some round, the two stores disagreed on an id written in it.</summary>
        public void AssertEveryRoundAgreed() =>
            Assert.True(
                _disagreements.IsEmpty,
                "the stores disagreed after a round: " + string.Join("; ", _disagreements)
            );

        private async Task CheckAsync(int round)
        {
            try
            {
                foreach (string disagreement in await findDisagreements(round).WaitAsync(Patience))
                {
                    _disagreements.Enqueue($"after round {round}, {disagreement}");
                }
            }
            catch (Exception exception)
            {
                _disagreements.Enqueue($"after round {round}, the comparison failed: {exception.Message}");
            }
        }
    }

    /// <summary>A lock provider that hands the first handle it grants to the test (<see cref="First"/>).</summary>
    private sealed class ObservingLockProvider(IMigrationLockProvider inner) : IMigrationLockProvider
    {
        private readonly TaskCompletionSource<IMigrationLockHandle> _first = new(
            TaskCreationOptions.RunContinuationsAsynchronously
        );

        public Task<IMigrationLockHandle> First => _first.Task;

        public async ValueTask<IMigrationLockHandle?> TryAcquireAsync(
            string key,
            TimeSpan timeout,
            CancellationToken cancellationToken = default
        )
        {
            IMigrationLockHandle? handle = await inner.TryAcquireAsync(key, timeout, cancellationToken);
            if (handle is not null)
            {
                _first.TrySetResult(handle);
            }

            return handle;
        }
    }
}
