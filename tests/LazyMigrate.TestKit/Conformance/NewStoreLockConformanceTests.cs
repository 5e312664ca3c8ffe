namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="ILockingNewStore{TNew}"/> and its <see cref="INewStoreLock{TNew}"/> must do: all ids or
/// none, nothing left held after a refusal, a failure or a cancellation part-way, an idempotent dispose, zero,
/// infinite and negative timeouts, and contenders on overlapping ids that never deadlock.
/// </summary>
public abstract class NewStoreLockConformanceTests<TEntity> : IConformanceEntities<TEntity>
    where TEntity : class
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Creates a fresh, empty store over a backend of its own.</summary>
    protected abstract Task<ILockingNewStore<TEntity>> CreateStoreAsync();

    /// <summary>
    /// Returns another instance over the backend of <paramref name="store"/>, as another service instance has.
    /// </summary>
    protected virtual Task<ILockingNewStore<TEntity>> AnotherInstanceAsync(ILockingNewStore<TEntity> store) =>
        Task.FromResult(store);

    /// <summary>
    /// Returns once a caller is blocked on the lock of <paramref name="id"/> in the backend of <paramref
    /// name="store"/>.
    /// </summary>
    protected abstract Task WaitUntilWaitingAsync(ILockingNewStore<TEntity> store, string id);

    public abstract TEntity Create(string id, int version);

    public abstract int VersionOf(TEntity entity);

    [Fact]
    public async Task TryLock_FreeIds_LocksThemAndReadsWhatTheStoreHolds()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 3));

        await using INewStoreLock<TEntity>? held = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);

        Assert.NotNull(held);
        Assert.Equal(["a"], held.Current.Keys);
        Assert.Equal(3, VersionOf(held.Current["a"].Value!));
    }

    [Fact]
    public async Task TryLock_WithAnIdHeldElsewhere_ReturnsNull_AndHoldsNoneOfTheOtherIds()
    {
        var store = await CreateStoreAsync();
        var other = await AnotherInstanceAsync(store);
        await using INewStoreLock<TEntity>? holder = await store.TryLockAsync(["b"], TimeSpan.Zero);

        INewStoreLock<TEntity>? refused = await other.TryLockAsync(["a", "b", "c"], TimeSpan.Zero);

        Assert.NotNull(holder);
        Assert.Null(refused);
        await using INewStoreLock<TEntity>? rest = await other.TryLockAsync(["a", "c"], TimeSpan.Zero);
        Assert.NotNull(rest);
    }

    [Fact]
    public async Task TryLock_CancelledWhileWaitingForItsLastId_Throws_AndHoldsNoneOfItsIds()
    {
        var store = await CreateStoreAsync();
        var other = await AnotherInstanceAsync(store);
        INewStoreLock<TEntity>? holder = await store.TryLockAsync(["b"], TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();

        Task<INewStoreLock<TEntity>?> waiting = other.TryLockAsync(["a", "b"], Patience, cancel.Token).AsTask();
        await WaitUntilWaitingAsync(store, "b");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await holder!.DisposeAsync();
        await using INewStoreLock<TEntity>? after = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task TryLock_WithInfiniteTimeout_WaitsUntilTheHolderReleases()
    {
        var store = await CreateStoreAsync();
        var other = await AnotherInstanceAsync(store);
        INewStoreLock<TEntity>? holder = await store.TryLockAsync(["a"], TimeSpan.Zero);

        Task<INewStoreLock<TEntity>?> waiting = other.TryLockAsync(["a"], Timeout.InfiniteTimeSpan).AsTask();
        await WaitUntilWaitingAsync(store, "a");
        Assert.False(waiting.IsCompleted);
        await holder!.DisposeAsync();

        await using INewStoreLock<TEntity>? acquired = await waiting.WaitAsync(Patience);
        Assert.NotNull(acquired);
    }

    [Fact]
    public async Task TryLock_WithANegativeTimeout_Throws()
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await store.TryLockAsync(["a"], TimeSpan.FromSeconds(-2))
        );

        await using INewStoreLock<TEntity>? after = await store.TryLockAsync(["a"], TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task InsertAndRelease_InsertsTheAbsentIds_AndReleasesThemAll()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("saved", Create("saved", 1));
        INewStoreLock<TEntity>? held = await store.TryLockAsync(["new", "saved"], TimeSpan.Zero);

        IReadOnlyCollection<string> inserted = await held!.InsertManyIfAbsentAndReleaseAsync([
            new("new", Create("new", 2)),
            new("saved", Create("saved", 2)),
        ]);

        Assert.Equal(["new"], inserted);
        Assert.Equal(2, VersionOf((await store.FindAsync("new")).Value!));
        Assert.Equal(1, VersionOf((await store.FindAsync("saved")).Value!));
        await using INewStoreLock<TEntity>? after = await store.TryLockAsync(["new", "saved"], TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task InsertAndRelease_ThatFails_StillReleasesTheLocks()
    {
        var store = await CreateStoreAsync();
        INewStoreLock<TEntity>? held = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await held!.InsertManyIfAbsentAndReleaseAsync(
                [new("a", Create("a", 1)), new("b", Create("b", 1))],
                new CancellationToken(canceled: true)
            )
        );

        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("a")).State);
        await using INewStoreLock<TEntity>? after = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);
        Assert.NotNull(after);
        await held!.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_Twice_OrAfterInsertAndRelease_IsHarmless_AndFreesTheIds()
    {
        var store = await CreateStoreAsync();
        INewStoreLock<TEntity>? disposed = await store.TryLockAsync(["a"], TimeSpan.Zero);
        INewStoreLock<TEntity>? inserted = await store.TryLockAsync(["b"], TimeSpan.Zero);

        await disposed!.DisposeAsync();
        await disposed.DisposeAsync();
        await inserted!.InsertManyIfAbsentAndReleaseAsync([new("b", Create("b", 1))]);
        await inserted.DisposeAsync();

        await using INewStoreLock<TEntity>? after = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task ContendersOnOverlappingIds_InOppositeOrders_AllGetTheirLocks_WithoutDeadlock()
    {
        var store = await CreateStoreAsync();
        ILockingNewStore<TEntity>[] instances = [store, await AnotherInstanceAsync(store)];
        string[][] batches =
        [
            ["a", "b", "c"],
            ["c", "b", "a"],
            ["b", "c"],
            ["c", "a"],
        ];
        var (overlaps, acquisitions, contended) = await Contenders.RunAsync(
            batches.Length,
            5,
            async (worker, wait) => await instances[worker % 2].TryLockAsync(batches[worker], wait)
        );

        // Every pair of these batches overlaps, so no two may ever hold their locks at once.
        Assert.Equal(0, overlaps);
        Assert.Equal(20, acquisitions);
        Assert.NotEqual(0, contended);
    }
}
