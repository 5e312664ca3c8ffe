namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// The lock contract, plus what an <see cref="IMigrationBatchLockProvider"/> must do with a batch of keys: all or
/// none, one handle that releases them all, a wait bounded and cancellable, bad arguments refused, and overlapping
/// batches that never deadlock.
/// </summary>
public abstract class BatchLockConformanceTests : LockConformanceTests
{
    /// <summary>Creates a provider over the shared backend, as another service instance would have.</summary>
    protected abstract Task<IMigrationBatchLockProvider> CreateBatchProviderAsync();

    protected sealed override async Task<IMigrationLockProvider> CreateProviderAsync() =>
        await CreateBatchProviderAsync();

    private static string[] NewKeys(int count) => [.. Enumerable.Range(0, count).Select(_ => NewKey())];

    [Fact]
    public async Task TryAcquireMany_FreeKeys_HoldsThemAll_UntilDisposed()
    {
        string[] keys = NewKeys(3);
        var holder = await CreateBatchProviderAsync();
        var other = await CreateBatchProviderAsync();

        IMigrationLockHandle? held = await holder.TryAcquireManyAsync(keys, TimeSpan.Zero);
        IMigrationLockHandle?[] whileHeld =
        [
            await other.TryAcquireAsync(keys[0], TimeSpan.Zero),
            await other.TryAcquireAsync(keys[2], TimeSpan.Zero),
        ];
        await held!.DisposeAsync();
        await held.DisposeAsync();

        Assert.All(whileHeld, Assert.Null);
        await using IMigrationLockHandle? after = await other.TryAcquireManyAsync(keys, TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task TryAcquireMany_WithAKeyHeldElsewhere_TimesOutWithNull_AndHoldsNoneOfTheOthers()
    {
        string[] keys = NewKeys(3);
        var holder = await CreateBatchProviderAsync();
        var other = await CreateBatchProviderAsync();
        await using IMigrationLockHandle? held = await holder.TryAcquireAsync(keys[1], TimeSpan.Zero);

        IMigrationLockHandle? immediate = await other.TryAcquireManyAsync(keys, TimeSpan.Zero);
        IMigrationLockHandle? waited = await other.TryAcquireManyAsync(keys, TimeSpan.FromMilliseconds(300));

        Assert.Null(immediate);
        Assert.Null(waited);
        await using IMigrationLockHandle? rest = await holder.TryAcquireManyAsync([keys[0], keys[2]], TimeSpan.Zero);
        Assert.NotNull(rest);
    }

    [Fact]
    public async Task TryAcquireMany_Waiting_GetsThemAllWhenTheHeldKeyIsReleased()
    {
        string[] keys = NewKeys(3);
        var holder = await CreateBatchProviderAsync();
        var waiter = await CreateBatchProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(keys[2], TimeSpan.Zero);

        Task<IMigrationLockHandle?> waiting = waiter.TryAcquireManyAsync(keys, Patience).AsTask();
        await WaitUntilWaitingAsync(keys[2]);
        Assert.False(waiting.IsCompleted);
        await held!.DisposeAsync();

        await using IMigrationLockHandle? acquired = await waiting.WaitAsync(Patience);
        Assert.NotNull(acquired);
        Assert.Null(await holder.TryAcquireAsync(keys[0], TimeSpan.Zero));
    }

    [Fact]
    public async Task TryAcquireMany_CancelledWhileWaiting_Throws_AndHoldsNone()
    {
        string[] keys = NewKeys(3);
        var holder = await CreateBatchProviderAsync();
        var waiter = await CreateBatchProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(keys[2], TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();

        Task<IMigrationLockHandle?> waiting = waiter.TryAcquireManyAsync(keys, Patience, cancel.Token).AsTask();
        await WaitUntilWaitingAsync(keys[2]);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience));
        await held!.DisposeAsync();
        await using IMigrationLockHandle? after = await holder.TryAcquireManyAsync(keys, TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task TryAcquireMany_WithBadArguments_Throws()
    {
        var provider = await CreateBatchProviderAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await provider.TryAcquireManyAsync(null!, TimeSpan.Zero)
        );
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await provider.TryAcquireManyAsync([], TimeSpan.Zero)
        );
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await provider.TryAcquireManyAsync([NewKey(), string.Empty], TimeSpan.Zero)
        );
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await provider.TryAcquireManyAsync(NewKeys(2), TimeSpan.FromSeconds(-2))
        );
    }

    [Fact]
    public async Task OverlappingBatches_InOppositeOrders_AllGetTheirLocks_WithoutDeadlock()
    {
        string[] keys = NewKeys(3);
        IMigrationBatchLockProvider[] providers = [await CreateBatchProviderAsync(), await CreateBatchProviderAsync()];
        string[][] batches =
        [
            [keys[0], keys[1], keys[2]],
            [keys[2], keys[1], keys[0]],
            [keys[1], keys[2]],
            [keys[2], keys[0]],
        ];
        var (overlaps, acquisitions, contended) = await Contenders.RunAsync(
            batches.Length,
            5,
            async (worker, wait) => await providers[worker % 2].TryAcquireManyAsync(batches[worker], wait)
        );

        // Every pair of these batches overlaps, so no two may ever hold their locks at once.
        Assert.Equal(0, overlaps);
        Assert.Equal(20, acquisitions);
        Assert.NotEqual(0, contended);
    }
}
