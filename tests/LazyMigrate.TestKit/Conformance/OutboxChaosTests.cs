using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Chaos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// <see cref="WriteBackMode.Async"/> under faults (docs/write-back.md, invariant 4 of docs/design.md): Polly's chaos
/// strategies fail old-store writes and the dispatchers' outbox calls, a dispatcher is stopped in the middle of a batch
/// and another takes its items over when their leases end, while writers save and delete on two instances. Once the
/// faults stop and the outbox drains, the old store holds the reverse-mapped state of the new store for every entity,
/// the outbox is empty, and no entity's old record ever went back to an older state on the way.
/// </summary>
/// <remarks>
/// Every instance is its own container over the adapter's stores, lock backend and outbox; the clock is a
/// <see cref="FakeTimeProvider"/> all of them share, so leases end when the test says. The dispatchers run when the
/// test runs them (<see cref="DispatcherPumps"/>, or <c>DrainAsync</c>), never on their own.
/// </remarks>
public abstract partial class OutboxChaosTests
{
    private const int Writers = 4;
    private const int IdsPerWriter = 4;
    private const int Ids = Writers * IdsPerWriter;
    private const int Rounds = 60;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly CustomerMapper Mapper = new();

    protected abstract Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync();

    protected abstract Task<INewStore<Customer>> CreateNewStoreAsync();

    /// <summary>Creates the outbox every instance of a test shares.</summary>
    protected abstract Task<IMigrationOutbox> CreateOutboxAsync();

    /// <summary>Creates another instance's lock provider over the shared backend.</summary>
    protected abstract Task<IMigrationLockProvider> CreateLockProviderAsync();

    protected static string Id(int n) => $"customer-{n:D4}";

    [Fact]
    public async Task UnderChaos_TwoInstancesWriting_ADispatcherStoppedMidBatch_OnceFaultsStop_StoresAgreeInOrder()
    {
        var time = new FakeTimeProvider(T0);
        IOldStore<LegacyCustomer> old = await CreateSeededOldStoreAsync(Ids);
        var log = new WriteOrderLog();
        var ordered = new OrderCheckingOldStore<LegacyCustomer>(old, log, c => c.Version);
        var oldChaos = new StoreChaos("the old store", 2026, faultRate: 0.3, lostReplyRate: 0.15, latencyRate: 0.2);
        var outboxChaos = new StoreChaos("the outbox", 1211, faultRate: 0.3, lostReplyRate: 0.15, latencyRate: 0.2);
        var chaosOld = new ChaosOldStore<LegacyCustomer>(ordered, oldChaos);
        var outbox = new ChaosOutbox(await CreateOutboxAsync(), outboxChaos);
        INewStore<Customer> neu = await CreateNewStoreAsync();
        await using var first = await CreateInstanceAsync(chaosOld, neu, outbox, time);
        await using var second = await CreateInstanceAsync(chaosOld, neu, outbox, time);
        ServiceProvider[] writing = [first, second];

        // The first half of the writes, both instances dispatching as they go.
        await using (var pumps = DispatcherPumps.Start(first, second))
        {
            await WriteRoundsAsync(log, writing, 0, Rounds / 2, () => AfterEachWriteAsync(time, pumps));
        }

        // Faults paused, the leases the first half's lost replies left end, and one more round is written, dispatched
        // by nobody yet: the batch of a third instance's dispatcher, stopped while one of its old-store writes is held
        // (a host shut down mid-batch): its items stay leased, some of them applied, none completed.
        oldChaos.Enabled = outboxChaos.Enabled = false;
        time.Advance(Lease);
        await WriteRoundsAsync(log, writing, Rounds / 2, (Rounds / 2) + 1);
        var holding = new WriteGatedOldStore<LegacyCustomer>(chaosOld);
        PauseGate held = holding.HoldNextWrite();
        await using (var stopped = await CreateInstanceAsync(holding, neu, outbox, time))
        {
            using var stopping = new CancellationTokenSource();
            Task dispatching = Dispatcher(stopped).DrainAsync(stopping.Token).AsTask();
            await held.Reached.WaitAsync(Patience);
            await stopping.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dispatching.WaitAsync(Patience));
        }

        Assert.Equal(1, held.CancelledPauses);
        string heldId = holding.HeldId!;

        // A restarted dispatcher: the stopped one's items wait for their leases, then it takes them over.
        await using var restarted = await CreateInstanceAsync(chaosOld, neu, outbox, time);
        await Dispatcher(restarted).DrainAsync();
        Assert.True(
            (await StatisticsAsync(restarted)).Pending.GetValueOrDefault(OutboxItemKind.WriteBack) > 0,
            "the stopped dispatcher's leased items were claimed before their leases ended"
        );
        time.Advance(Lease);
        await Dispatcher(restarted).DrainAsync();
        Assert.Empty((await StatisticsAsync(restarted)).Pending);
        await AssertStoresAgreeAsync(old, neu, heldId);

        // The second half of the writes under faults again, the restarted dispatcher among the two others.
        oldChaos.Enabled = outboxChaos.Enabled = true;
        await using (var pumps = DispatcherPumps.Start(first, second, restarted))
        {
            await WriteRoundsAsync(log, writing, (Rounds / 2) + 1, Rounds, () => AfterEachWriteAsync(time, pumps));
        }

        // The faults stop; what they left behind (retries, items leased by claims whose reply was lost) comes due.
        oldChaos.Enabled = outboxChaos.Enabled = false;
        for (int pass = 0; pass < 5 && (await StatisticsAsync(first)).Pending.Count > 0; pass++)
        {
            time.Advance(Lease);
            foreach (ServiceProvider instance in new[] { first, second, restarted })
            {
                await Dispatcher(instance).DrainAsync();
            }
        }

        Assert.True(oldChaos.FaultRate >= 0.2, $"{oldChaos.Faults} faults in {oldChaos.Calls} old-store writes");
        Assert.True(outboxChaos.FaultRate >= 0.2, $"{outboxChaos.Faults} faults in {outboxChaos.Calls} outbox calls");
        Assert.True(oldChaos.LostReplies > 0 && outboxChaos.LostReplies > 0, "no reply was lost");
        await AssertStoresAgreeAsync(old, neu, [.. Enumerable.Range(0, Ids).Select(Id)]);
        Assert.Empty((await StatisticsAsync(first)).Pending);
        Assert.Empty(await Dispatcher(first).GetDeadLettersAsync());
        Assert.True(ordered.Violations.Count == 0, string.Join("; ", ordered.Violations));
    }

    /// <summary>
    /// Writer <c>w</c> owns ids <c>w</c>, <c>w + Writers</c>, ...: an entity's writes come one after another, so the
    /// <see cref="WriteOrderLog"/> has them in the new store's order, while the writers write at once, each round on
    /// the other instance. Every fifth write is a delete; a save's version is 1000 + its round, growing per entity.
    /// Each writer runs <paramref name="afterEachWrite"/> after each of its writes.
    /// </summary>
    private static Task WriteRoundsAsync(
        WriteOrderLog log,
        ServiceProvider[] instances,
        int from,
        int to,
        Func<Task>? afterEachWrite = null
    ) =>
        StartingGate.RunAsync(
            Writers,
            async writer =>
            {
                for (int round = from; round < to; round++)
                {
                    string id = Id(writer + (Writers * (round % IdsPerWriter)));
                    var repository = Repository(instances[(writer + round) % instances.Length]);
                    if (round % 5 == 3)
                    {
                        log.Deleting(id);
                        await repository.DeleteAsync(id);
                    }
                    else
                    {
                        log.Saving(id, 1000 + round);
                        await repository.SaveAsync(id, Customer.Create(id, 1000 + round));
                    }

                    if (afterEachWrite is not null)
                    {
                        await afterEachWrite();
                    }
                }

                return writer;
            }
        );

    /// <summary>
    /// Between two writes of a writer while the dispatchers run: the clock moves an eighth of a lease (so the leases
    /// of claims whose reply was lost end, and a slow batch may lose its own to another dispatcher), and the writer
    /// waits for the next drain to end, so that the dispatchers work all along the writes however fast the stores
    /// are; the drains overlap the next writes.
    /// </summary>
    private static Task AfterEachWriteAsync(FakeTimeProvider time, DispatcherPumps pumps)
    {
        time.Advance(Lease / 8);
        return pumps.NextDrainAsync().WaitAsync(Patience);
    }

    private async Task<IOldStore<LegacyCustomer>> CreateSeededOldStoreAsync(int records)
    {
        IOldStore<LegacyCustomer> old = await CreateOldStoreAsync();
        for (int n = 0; n < records; n++)
        {
            await old.UpsertAsync(Id(n), LegacyCustomer.Create(Id(n), n));
        }

        return old;
    }

    /// <summary>
    /// One service instance: its own container and lock provider over the shared stores and outbox, Async write-back,
    /// every retry left to the outbox (whose retries are due at once, so they run while the writers write), and store
    /// calls never timed out by the fake clock.
    /// </summary>
    private async Task<ServiceProvider> CreateInstanceAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        IMigrationOutbox outbox,
        TimeProvider time,
        Action<OutboxOptions>? configure = null,
        TimeSpan? lockTimeout = null
    )
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.WriteBackMode = WriteBackMode.Async;
                o.MaxRetryAttempts = 0;
                o.AttemptTimeout = TimeSpan.FromHours(1);
                o.LockTimeout = lockTimeout ?? Patience;
            })
            .UseMapper(Mapper)
            .UseReverseMapper(Mapper)
            .UseOldStore(old)
            .UseNewStore(neu)
            .UseLock(await CreateLockProviderAsync())
            .UseOutbox(outbox)
            .ConfigureOutbox(o =>
            {
                o.DispatchOnWrite = false;
                o.BatchSize = 8;
                o.LeaseDuration = Lease;
                o.RetryDelay = TimeSpan.Zero;
                o.MaxRetryDelay = TimeSpan.FromSeconds(1);
                o.MaxAttempts = 1000; // under these faults an item may fail many times; none may be dead-lettered
                configure?.Invoke(o);
            });
        return services.BuildServiceProvider();
    }

    private static IMigratingRepository<LegacyCustomer, Customer> Repository(IServiceProvider instance) =>
        instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

    private static IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher(IServiceProvider instance) =>
        instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

    private static ValueTask<OutboxStatistics> StatisticsAsync(IServiceProvider instance) =>
        Dispatcher(instance).GetStatisticsAsync();

    /// <summary>
    /// Asserts that, for every id, the old store holds the reverse-mapped value of the new store, or nothing where the
    /// new store holds a tombstone.
    /// </summary>
    private static async Task AssertStoresAgreeAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        params string[] ids
    )
    {
        var disagreements = new List<string>();
        foreach (string id in ids)
        {
            NewStoreRead<Customer> current = await neu.FindAsync(id);
            LegacyCustomer? expected = current.State == NewStoreState.Found ? Mapper.MapBack(current.Value!) : null;
            LegacyCustomer? actual = await old.FindAsync(id);
            if ((expected?.FullName, expected?.Version) != (actual?.FullName, actual?.Version))
            {
                disagreements.Add(
                    $"{id}: new store {current.State} v{current.Value?.Version}, old store v{actual?.Version}"
                );
            }
        }

        Assert.True(disagreements.Count == 0, "the stores disagree: " + string.Join("; ", disagreements));
    }

    /// <summary>
    /// The instances' dispatchers, each draining in a loop until disposed, as hosted dispatchers would (polling a
    /// millisecond when nothing was due); an injected fault fails a drain, the next one goes on. Disposing lets the
    /// drain in progress finish, so that no batch is left half done.
    /// </summary>
    private sealed class DispatcherPumps : IAsyncDisposable
    {
        private readonly Task[] _pumps;
        private volatile bool _stopping;
        private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private DispatcherPumps(IServiceProvider[] instances) =>
            _pumps = [.. instances.Select(i => Task.Run(() => PumpAsync(Dispatcher(i))))];

        public static DispatcherPumps Start(params IServiceProvider[] instances) => new(instances);

        /// <summary>Gets a task that completes when the next drain of any pump ends, well or failed.</summary>
        public Task NextDrainAsync() => Volatile.Read(ref _drained).Task;

        public async ValueTask DisposeAsync()
        {
            _stopping = true;
            await Task.WhenAll(_pumps).WaitAsync(Patience);
        }

        private async Task PumpAsync(IMigrationDispatcher<LegacyCustomer, Customer> dispatcher)
        {
            while (!_stopping)
            {
                int claimed;
                try
                {
                    claimed = await dispatcher.DrainAsync();
                }
                catch (MigrationStoreException)
                {
                    claimed = 0;
                }
                finally
                {
                    Interlocked
                        .Exchange(ref _drained, new(TaskCreationOptions.RunContinuationsAsynchronously))
                        .TrySetResult();
                }

                if (claimed == 0)
                {
                    await Task.Delay(1);
                }
            }
        }
    }
}
