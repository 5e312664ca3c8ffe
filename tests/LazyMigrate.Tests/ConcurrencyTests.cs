using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

/// <summary>Invariant 3: one migration per entity, in one process and across instances.</summary>
public sealed class ConcurrencyTests
{
    /// <summary>Bounds every wait on a gate, so that a broken migration fails the test instead of hanging it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task GetAsync_1000ConcurrentReadersOfOneId_MigrateItOnce()
    {
        const int Readers = 1000;
        var shared = new SharedStores();
        var gated = new GatedOldStore<OldCustomer>(shared.Old);
        var store = new HookedNewStore<NewCustomer>(shared.New);
        var allWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int waiting = 0;

        // Every reader's new-store read waits at this gate. It is opened once every reader waits there, as a reader
        // knows when GetAsync hands back its unfinished task: its continuation is registered on the gate by then.
        // Opened on a thread-pool thread, the gate runs each reader there in turn, from its read on to where it waits
        // for a migration. The first starts the migration, held inside its old-store read; every other one has joined
        // it when the gate's opening returns. Counting readers as they reach the store instead would let the last one
        // count itself before it waits at the gate: it would then run on by itself, and, preempted between its read
        // and its join, start a second migration once the first ended.
        var readsGate = new TaskCompletionSource();
        store.FindGate = () => readsGate.Task;

        // Without the lock, single-flight alone keeps the readers to one migration: every reader that started its own
        // would read the old store.
        await using var harness = MigrationHarness
            .Create(shared, o => o.UseLock = false, b => b.UseOldStore(gated).UseNewStore(store))
            .SeedLegacy(1);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<NewCustomer?>[] readers = Enumerable
            .Range(0, Readers)
            .Select(_ =>
                Task.Run(async () =>
                {
                    await go.Task;
                    ValueTask<NewCustomer?> read = harness.Repository.GetAsync(MigrationHarness.Id(0));
                    if (Interlocked.Increment(ref waiting) == Readers)
                    {
                        allWaiting.TrySetResult();
                    }

                    return await read;
                })
            )
            .ToArray();
        go.SetResult();
        await allWaiting.Task.WaitAsync(Patience);
        await Task.Run(readsGate.SetResult); // off the test's synchronization context, which would queue them instead
        await gated.Read.WaitAsync(Patience);
        gated.Release();
        NewCustomer?[] results = await Task.WhenAll(readers).WaitAsync(Patience);

        Assert.All(results, r => Assert.Equal(MigrationHarness.Mapped(0), r));
        Assert.Equal(1, harness.Old.ReadCount);
        Assert.Equal(1, harness.Mapper.MapCount);
        Assert.Equal(1, harness.New.InsertCount);
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task GetAsync_ConcurrentReadersOfDistinctIds_MigrateEachOnce()
    {
        const int Ids = 50;
        await using var harness = MigrationHarness.Create().SeedLegacy(Ids);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<NewCustomer?>[] readers = Enumerable
            .Range(0, 1000)
            .Select(i =>
                Task.Run(async () =>
                {
                    await go.Task;
                    return await harness.Repository.GetAsync(MigrationHarness.Id(i % Ids));
                })
            )
            .ToArray();
        go.SetResult();
        NewCustomer?[] results = await Task.WhenAll(readers);

        Assert.All(results.Select((r, i) => (r, i)), x => Assert.Equal(MigrationHarness.Mapped(x.i % Ids), x.r));
        Assert.Equal(Ids, harness.Old.ReadCount);
        Assert.Equal(Ids, harness.Mapper.MapCount);
        Assert.Equal(Ids, harness.New.InsertCount);
        await harness.DrainAsync();
        Assert.Equal(Ids, harness.Events.Select(e => e.EntityId).Distinct().Count());
        Assert.Equal(Ids, harness.Events.Count);
    }

    [Fact]
    public async Task GetAsync_TwoInstancesSharingStoresAndLock_InsertAndRaiseOncePerId()
    {
        const int Ids = 40;
        var shared = new SharedStores();
        await using var first = MigrationHarness.Create(shared).SeedLegacy(Ids);
        await using var second = MigrationHarness.Create(shared);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<NewCustomer?>[] readers = Enumerable
            .Range(0, 400)
            .Select(i =>
                Task.Run(async () =>
                {
                    await go.Task;
                    var instance = i % 2 == 0 ? first : second;
                    return await instance.Repository.GetAsync(MigrationHarness.Id(i % Ids));
                })
            )
            .ToArray();
        go.SetResult();
        NewCustomer?[] results = await Task.WhenAll(readers);

        Assert.All(results, Assert.NotNull);
        Assert.Equal(Ids, shared.New.InsertCount);
        await shared.DrainAsync();
        Assert.Equal(Ids, shared.AllEvents.Count);
        Assert.Equal(Ids, shared.AllEvents.Select(e => e.EntityId).Distinct().Count());
    }

    [Fact]
    public async Task GetAsync_TwoInstancesWithOnePaused_SecondWaitsForTheLockAndFindsItMigrated()
    {
        var shared = new SharedStores();
        await using var first = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared);

        Task<NewCustomer?> firstRead = first.Repository.GetAsync(MigrationHarness.Id(0)).AsTask();
        await gated.Read.WaitAsync(Patience);
        Task<NewCustomer?> secondRead = second.Repository.GetAsync(MigrationHarness.Id(0)).AsTask();
        await TestKit.Eventually.TrueAsync(() =>
            shared.Lock.WaiterCount(MigrationHarness.LockKey(MigrationHarness.Id(0))) == 1
        );
        gated.Release();

        Assert.Equal(MigrationHarness.Mapped(0), await firstRead);
        Assert.Equal(MigrationHarness.Mapped(0), await secondRead);
        Assert.Equal(1, shared.Old.ReadCount);
        Assert.Equal(1, shared.New.InsertCount);
        await shared.DrainAsync();
        Assert.Single(shared.AllEvents);
        Assert.Single(first.Events);
    }
}
