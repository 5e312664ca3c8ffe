namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="IMigrationLockProvider"/> must do: mutual exclusion across instances, timeouts, release, an
/// idempotent dispose, bad arguments refused, a cancellable wait, and a handle that learns of its loss. Each
/// <see cref="CreateProviderAsync"/> call stands for another service instance.
/// </summary>
public abstract class LockConformanceTests
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected abstract Task<IMigrationLockProvider> CreateProviderAsync();

    /// <summary>
    /// Makes the backend lose the lock <paramref name="handle"/> holds: kill its connection, delete its key, expire it.
    /// </summary>
    protected abstract Task LoseAsync(string key, IMigrationLockHandle handle);

    /// <summary>
    /// Gets whether the provider notices a lost lock and cancels <see cref="IMigrationLockHandle.HandleLostToken"/>.
    /// </summary>
    protected virtual bool CanDetectLoss => true;

    protected static string NewKey() => $"lazymigrate:conformance:{Guid.NewGuid():N}";

    /// <summary>
    /// Returns once a caller waits for <paramref name="key"/> (held by another handle): where the backend can tell, as
    /// the backend shows it (a lock request not granted, a session between two tries); otherwise as a wrapper over
    /// the backend sees it (a try refused, the wait begun). Bounded: throws when no caller waits in time.
    /// </summary>
    protected abstract Task WaitUntilWaitingAsync(string key);

    [Fact]
    public async Task TryAcquire_AFreeKey_ReturnsAHandle()
    {
        var provider = await CreateProviderAsync();

        await using IMigrationLockHandle? handle = await provider.TryAcquireAsync(NewKey(), TimeSpan.Zero);

        Assert.NotNull(handle);
    }

    [Fact]
    public async Task TryAcquire_AKeyHeldByAnotherInstance_TimesOutWithNull()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var other = await CreateProviderAsync();
        await using IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);

        IMigrationLockHandle? immediate = await other.TryAcquireAsync(key, TimeSpan.Zero);
        IMigrationLockHandle? waited = await other.TryAcquireAsync(key, TimeSpan.FromMilliseconds(300));

        Assert.NotNull(held);
        Assert.Null(immediate);
        Assert.Null(waited);
    }

    [Fact]
    public async Task Release_LetsAnotherInstanceAcquire()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var other = await CreateProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);

        await held!.DisposeAsync();
        await using IMigrationLockHandle? next = await other.TryAcquireAsync(key, Patience);

        Assert.NotNull(next);
    }

    [Fact]
    public async Task AWaitingInstance_GetsTheLockWhenItIsReleased()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var waiter = await CreateProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);

        Task<IMigrationLockHandle?> waiting = waiter.TryAcquireAsync(key, Patience).AsTask();
        await WaitUntilWaitingAsync(key);
        Assert.False(waiting.IsCompleted);
        await held!.DisposeAsync();
        await using IMigrationLockHandle? acquired = await waiting.WaitAsync(Patience);

        Assert.NotNull(acquired);
    }

    [Fact]
    public async Task DistinctKeys_DoNotBlockEachOther()
    {
        var first = await CreateProviderAsync();
        var second = await CreateProviderAsync();

        await using IMigrationLockHandle? a = await first.TryAcquireAsync(NewKey(), TimeSpan.Zero);
        await using IMigrationLockHandle? b = await second.TryAcquireAsync(NewKey(), TimeSpan.Zero);

        Assert.NotNull(a);
        Assert.NotNull(b);
    }

    [Fact]
    public async Task ManyInstancesContending_NeverHoldTheLockTogether()
    {
        string key = NewKey();
        IMigrationLockProvider[] providers =
        [
            await CreateProviderAsync(),
            await CreateProviderAsync(),
            await CreateProviderAsync(),
        ];
        var (overlaps, acquisitions, contended) = await Contenders.RunAsync(
            6,
            5,
            async (worker, wait) => await providers[worker % providers.Length].TryAcquireAsync(key, wait)
        );

        Assert.Equal(0, overlaps);
        Assert.Equal(30, acquisitions);
        Assert.NotEqual(0, contended);
    }

    [Fact]
    public async Task ALostLock_IsNoticedAndFreesTheKey()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var other = await CreateProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);
        Assert.NotNull(held);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = held.HandleLostToken.Register(() => lost.TrySetResult());

        await LoseAsync(key, held);

        if (CanDetectLoss)
        {
            await lost.Task.WaitAsync(Patience);
            Assert.True(held.HandleLostToken.IsCancellationRequested);
        }

        await using IMigrationLockHandle? next = await other.TryAcquireAsync(key, Patience);
        Assert.NotNull(next);
        await held.DisposeAsync();
    }

    [Fact]
    public async Task TryAcquire_WithACancelledToken_Throws()
    {
        var provider = await CreateProviderAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await provider.TryAcquireAsync(NewKey(), Patience, new CancellationToken(canceled: true))
        );
    }

    [Fact]
    public async Task Dispose_Twice_IsHarmless_AndTheKeyIsFree()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var other = await CreateProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);

        await held!.DisposeAsync();
        await held.DisposeAsync();

        await using IMigrationLockHandle? next = await other.TryAcquireAsync(key, Patience);
        Assert.NotNull(next);
        await held.DisposeAsync();
        Assert.Null(await holder.TryAcquireAsync(key, TimeSpan.Zero));
    }

    [Fact]
    public async Task TryAcquire_WithANullOrEmptyKey_OrANegativeTimeout_Throws()
    {
        var provider = await CreateProviderAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await provider.TryAcquireAsync(null!, TimeSpan.Zero)
        );
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await provider.TryAcquireAsync(string.Empty, TimeSpan.Zero)
        );
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await provider.TryAcquireAsync(NewKey(), TimeSpan.FromSeconds(-2))
        );
    }

    [Fact]
    public async Task TryAcquire_CancelledWhileWaiting_Throws_AndTheLockStillWorks()
    {
        string key = NewKey();
        var holder = await CreateProviderAsync();
        var waiter = await CreateProviderAsync();
        IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();

        Task<IMigrationLockHandle?> waiting = waiter.TryAcquireAsync(key, Patience, cancel.Token).AsTask();
        await WaitUntilWaitingAsync(key);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience));
        Assert.Null(await waiter.TryAcquireAsync(key, TimeSpan.Zero));
        await held!.DisposeAsync();
        await using IMigrationLockHandle? next = await waiter.TryAcquireAsync(key, Patience);
        Assert.NotNull(next);
    }
}
