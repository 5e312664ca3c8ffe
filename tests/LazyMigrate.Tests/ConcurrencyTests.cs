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
        var allWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int waiting = 0;

        // The first reader's migration waits inside its old-store read until the test releases it. Every reader's
        // new-store read misses at once, without yielding, so a reader's GetAsync hands back its unfinished task only
        // once it has joined that migration (or started it): when all of them have, none can start another. A gate
        // on the new-store reads instead would resume each reader through the thread pool (the attempt timeout's
        // WaitAsync), and one resumed after the migration ended would rightly start a second one. Without the lock,
        // single-flight alone keeps the readers to one migration: every reader that started its own would read the old
        // store.
        await using var harness = MigrationHarness
            .Create(shared, o => o.UseLock = false, b => b.UseOldStore(gated))
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
