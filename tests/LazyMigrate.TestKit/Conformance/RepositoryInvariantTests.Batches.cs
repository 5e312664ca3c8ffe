using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Batches under contention (docs/read-path.md, "The other calls" and "Locks"): <c>GetManyAsync</c> batches of several
/// instances that overlap, in different orders, lock without deadlock and migrate each id once; a batch that loses the
/// lock of one of its ids still leaves one row and one event per id; a batch of hundreds of ids locks on every backend.
/// </summary>
public abstract partial class RepositoryInvariantTests
{
    /// <summary>The ids of <see cref="RunBatchContentionAsync"/>'s batches.</summary>
    protected const int ContendedBatchSize = 10;

    [Fact]
    public async Task FourInstances_OverlappingShuffledBatches_100Ids_EachIdReadMappedInsertedAndAnnouncedOnce()
    {
        const int Ids = 100;
        const int Readers = 8;
        var (old, counting) = await CreateStoresAsync(Ids);
        var countingOld = new CountingOldStore<LegacyCustomer>(old);
        var instances = new List<ServiceProvider>();
        for (int i = 0; i < 4; i++)
        {
            instances.Add(await CreateInstanceAsync(ReadsOldAlong ? old : countingOld, counting));
        }

        try
        {
            // Reader r asks for 60 ids from 13 * r on (wrapping), shuffled its own way: every id is in several batches,
            // in different places of each, and every reader's batch overlaps the others'.
            int[][] batches = [.. Enumerable.Range(0, Readers).Select(ShuffledWindow)];
            int[] wrong = await StartingGate
                .RunAsync(
                    Readers,
                    async reader =>
                    {
                        var repository = Repository(instances[reader % instances.Count]);
                        IReadOnlyDictionary<string, Customer> found = await repository.GetManyAsync(
                            batches[reader].Select(Id)
                        );
                        return batches[reader].Count(n => !(found.TryGetValue(Id(n), out var c) && c.Version == n))
                            + (found.Count - batches[reader].Length);
                    }
                )
                .WaitAsync(Patience); // batches that deadlocked would time out their locks instead

            // Whether these batches ever cross in a way that deadlocks a bad lock order depends on the scheduling: the
            // check that catches one for certain is BatchesInOppositeOrders_..., which holds them where they cross.

            Assert.All(wrong, w => Assert.Equal(0, w));
            await AssertEachIdMigratedOnceAsync(Ids, counting, countingOld);
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                await instance.DisposeAsync();
            }
        }

        static int[] ShuffledWindow(int reader)
        {
            int[] window = [.. Enumerable.Range(0, 60).Select(k => (13 * reader + k) % Ids)];
            new Random(reader).Shuffle(window);
            return window;
        }
    }

    [Fact]
    public async Task BatchesInOppositeOrders_FindTheLocksHeldMidMigration_NeitherDeadlocks_OneMigrationPerId()
    {
        BatchContention contention = await RunBatchContentionAsync(lockProvider: null);

        Assert.True(contention.BothFoundTheLocksHeld, "a contender was granted a lock the holder's batch held");
        Assert.All(contention.MapCalls, calls => Assert.Equal(1, calls));
        Assert.All(contention.OldReads, reads => Assert.Equal(1, reads));
        Assert.Equal(ContendedBatchSize, contention.Inserted);
        Assert.Equal(ContendedBatchSize, contention.Events);
        Assert.All(contention.Wrong, wrong => Assert.Equal(0, wrong));
        AssertTheReadAlongPathRan(contention.Store);
    }

    [Fact]
    public async Task BatchLosesTheLockOfOneIdMidMigration_StillOneRowAndOneEventPerId()
    {
        var (old, counting) = await CreateStoresAsync(4);
        var pause = new PauseGate();
        var firstStore = new CountingNewStore<Customer>(counting, pause);
        await using var first = await CreateInstanceAsync(old, firstStore);
        await using var second = await CreateInstanceAsync(old, counting);
        string[] ids = [Id(0), Id(1), Id(2), Id(3)];

        Task<IReadOnlyDictionary<string, Customer>> firstRead = Repository(first).GetManyAsync(ids).AsTask();
        await pause.Reached.WaitAsync(Patience); // the batch read and mapped all four, about to insert, locks held
        await LoseLockAsync(MigrationLockKeys.For("LegacyCustomer->Customer", Id(1)));
        Customer? secondValue = await Repository(second).GetAsync(Id(1)).AsTask().WaitAsync(Patience);
        pause.Release();

        Assert.Equal(1, secondValue!.Version);
        if (LostLockFailsTheMigration)
        {
            // The batch's insert ran in the transaction of its locks, which died with the lock of one id: every id of
            // the batch fails with the new store's typed error, nothing of it was written, the next read migrates them.
            var error = await Assert.ThrowsAsync<MigrationBatchException<Customer>>(() =>
                firstRead.WaitAsync(Patience)
            );
            Assert.Empty(error.Found);
            Assert.Equal(ids, error.Failures.Keys.Order(StringComparer.Ordinal));
            Assert.All(
                error.Failures.Values,
                failure => Assert.Equal(MigrationRole.NewStore, Assert.IsType<MigrationStoreException>(failure).Role)
            );
            Assert.Equal(0, firstStore.InsertedCount);
            Assert.Equal(1, counting.InsertedCount);
            AssertVersions(await Repository(first).GetManyAsync(ids));
        }
        else
        {
            // The batch went on: its insert-if-absent lost the one id to the other instance's row, which it returns.
            AssertVersions(await firstRead.WaitAsync(Patience));
        }

        Assert.Equal(3, firstStore.InsertedCount);
        Assert.Equal(4, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Equal(ids, _events.Select(e => e.EntityId).Order(StringComparer.Ordinal));
        AssertTheReadAlongPathRan(counting);

        static void AssertVersions(IReadOnlyDictionary<string, Customer> found) =>
            Assert.Equal([0, 1, 2, 3], found.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Value.Version));
    }

    [Fact]
    public async Task OneBatchOf500Ids_FromTwoInstancesAtOnce_EachIdReadMappedInsertedAndAnnouncedOnce()
    {
        const int Ids = 500;
        var (old, counting) = await CreateStoresAsync(Ids);
        var countingOld = new CountingOldStore<LegacyCustomer>(old);
        await using var first = await CreateInstanceAsync(ReadsOldAlong ? old : countingOld, counting);
        await using var second = await CreateInstanceAsync(ReadsOldAlong ? old : countingOld, counting);
        string[] ids = [.. Enumerable.Range(0, Ids).Select(Id)];

        IReadOnlyDictionary<string, Customer>[] found = await StartingGate
            .RunAsync(
                2,
                async reader =>
                    await Repository(reader == 0 ? first : second).GetManyAsync(reader == 0 ? ids : ids.Reverse())
            )
            .WaitAsync(Patience);

        Assert.All(found, batch => Assert.Equal(Enumerable.Range(0, Ids), batch.Values.Select(c => c.Version).Order()));
        await AssertEachIdMigratedOnceAsync(Ids, counting, countingOld);
    }

    /// <summary>
    /// The holder's batch of <see cref="ContendedBatchSize"/> ids is held after its old read and mapper, before its
    /// insert, with its locks held; two contenders on other instances then ask for the same ids, one in descending
    /// order, one in ascending. Once each has either found a lock held (a try refused by its <see cref="LockProbe"/>)
    /// or finished, the holder goes on. <paramref name="lockProvider"/> replaces the adapter's lock for all three (a
    /// broken lock).
    /// </summary>
    /// <remarks>
    /// A lock that grants everyone lets the contenders read, map and insert while the holder is held: more than one
    /// mapper call per id. A batch lock that takes its keys in the order it is given deadlocks the contenders: each
    /// waits at the first id of its own order, the holder's release hands the descending one the highest id and the
    /// ascending one the others, and each then waits for what the other holds, until their lock timeouts (half the
    /// suite's patience) fail both. Locks taken in one order make them queue at the same id instead.
    /// </remarks>
    protected async Task<BatchContention> RunBatchContentionAsync(IMigrationLockProvider? lockProvider)
    {
        var (old, counting) = await CreateStoresAsync(ContendedBatchSize);
        var countingOld = new CountingOldStore<LegacyCustomer>(old);
        IOldStore<LegacyCustomer> oldStore = ReadsOldAlong ? old : countingOld;
        var pause = new PauseGate();
        LockProbe[] probes = [new(), new()];
        bool probeInStore = LockInNewStore && lockProvider is null;
        await using var holder = await CreateInstanceAsync(
            oldStore,
            new CountingNewStore<Customer>(counting, pause),
            lockProvider: lockProvider
        );
        var contenders = new List<ServiceProvider>();
        foreach (LockProbe probe in probes)
        {
            contenders.Add(
                await CreateInstanceAsync(
                    oldStore,
                    probeInStore ? new CountingNewStore<Customer>(counting, lockProbe: probe) : counting,
                    o => o.LockTimeout = Patience / 2,
                    lockProvider: probeInStore
                        ? null
                        : ProbingBatchLockProvider.Over(lockProvider ?? await CreateLockProviderAsync(), probe)
                )
            );
        }

        try
        {
            int[] ascending = [.. Enumerable.Range(0, ContendedBatchSize)];
            Task<IReadOnlyDictionary<string, Customer>> held = Repository(holder)
                .GetManyAsync(ascending.Select(Id))
                .AsTask();
            await pause.Reached.WaitAsync(Patience);
            Task<IReadOnlyDictionary<string, Customer>>[] contending =
            [
                Repository(contenders[0]).GetManyAsync(ascending.Reverse().Select(Id)).AsTask(),
                Repository(contenders[1]).GetManyAsync(ascending.Select(Id)).AsTask(),
            ];
            await Task.WhenAll(probes.Select((p, i) => Task.WhenAny(p.Refused, contending[i]))).WaitAsync(Patience);
            bool bothFoundTheLocksHeld = probes.All(p => p.Refused.IsCompleted);
            pause.Release();
            IReadOnlyDictionary<string, Customer>[] found = await Task.WhenAll([held, .. contending])
                .WaitAsync(Patience);
            await DrainEventsAsync();

            return new BatchContention(
                counting,
                bothFoundTheLocksHeld,
                [.. ascending.Select(n => _mapper.MapCallsFor(Id(n)))],
                [
                    .. ascending.Select(n =>
                        ReadsOldAlong ? counting.OldReadsAlongFor(Id(n)) : countingOld.ReadsFor(Id(n))
                    ),
                ],
                counting.InsertedCount,
                _events.Select(e => e.EntityId).Distinct().Count() == _events.Count ? _events.Count : -1,
                [
                    .. found.Select(batch =>
                        ascending.Count(n => !(batch.TryGetValue(Id(n), out var c) && c.Version == n))
                        + (batch.Count - ascending.Length)
                    ),
                ]
            );
        }
        finally
        {
            foreach (ServiceProvider contender in contenders)
            {
                await contender.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What <see cref="RunBatchContentionAsync"/> saw: whether both contenders found a lock held, the mapper calls and
    /// old reads of each id, the inserts, the events (-1 when an id was announced twice), and per reader (holder, then
    /// the contenders) the ids it got wrong or missed.
    /// </summary>
    protected sealed record BatchContention(
        CountingNewStore<Customer> Store,
        bool BothFoundTheLocksHeld,
        int[] MapCalls,
        int[] OldReads,
        int Inserted,
        int Events,
        int[] Wrong
    );
}
