using System.Diagnostics;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>What the advisory lock does beyond the lock contract: one session per lock, release that frees at once, loss noticed.</summary>
[Collection("postgres")]
public sealed class AdvisoryLockTests(PostgresServer server)
{
    private static string NewKey() => $"lazymigrate:advisory-test:{Guid.NewGuid():N}";

    [Fact]
    public async Task AHeldLock_IsAnAdvisoryLockOfItsOwnSession_GoneOnRelease()
    {
        var provider = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        string key = NewKey();

        IMigrationLockHandle? handle = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        long holders = await CountHoldersAsync(key);
        await handle!.DisposeAsync();

        Assert.Equal(1, holders);
        Assert.Equal(0, await CountHoldersAsync(key));
    }

    [Fact]
    public async Task Release_FreesTheKeyBeforeItReturns()
    {
        var first = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        var second = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        string key = NewKey();

        for (int round = 0; round < 20; round++)
        {
            IMigrationLockHandle? held = await (round % 2 == 0 ? first : second).TryAcquireAsync(key, TimeSpan.Zero);
            Assert.NotNull(held);
            await held.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALostLock_ReleasesQuietly_AndTheSameProviderCanTakeItAgain()
    {
        var provider = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        string key = NewKey();
        IMigrationLockHandle? held = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = held!.HandleLostToken.Register(lost.SetResult);

        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await held.DisposeAsync();
        await held.DisposeAsync();

        await using IMigrationLockHandle? again = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        Assert.NotNull(again);
        Assert.False(again.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task ALockReleasedWithinASlice_WasNeverWatched_AndItsKilledSessionReleasesQuietly()
    {
        // The clock stands still, so the watch never starts: nothing notices the kill until the release.
        var provider = new PostgreSqlAdvisoryLockProvider(server.DataSource, timeProvider: new FakeTimeProvider());
        string key = NewKey();
        IMigrationLockHandle? held = await provider.TryAcquireAsync(key, TimeSpan.Zero);

        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));
        Assert.False(held!.HandleLostToken.IsCancellationRequested);
        await held.DisposeAsync();

        Assert.Equal(0, await CountHoldersAsync(key));
        await using IMigrationLockHandle? again = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task ALockHeldForASlice_IsWatched_AndNoticesItsKilledSession()
    {
        var time = new FakeTimeProvider();
        var provider = new PostgreSqlAdvisoryLockProvider(server.DataSource, timeProvider: time);
        string key = NewKey();
        IMigrationLockHandle? held = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = held!.HandleLostToken.Register(lost.SetResult);

        time.Advance(PostgreSqlAdvisoryLockHandle.Slice);
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await held.DisposeAsync();
        Assert.Equal(0, await CountHoldersAsync(key));
    }

    [Fact]
    public async Task AWaitCancelled_ThrowsAndLeavesNoLockBehind()
    {
        var holder = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        var waiter = new PostgreSqlAdvisoryLockProvider(server.DataSource);
        string key = NewKey();
        await using IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);
        using var cancellation = new CancellationTokenSource();

        Task<IMigrationLockHandle?> waiting = waiter.TryAcquireAsync(key, Timeout.InfiniteTimeSpan, cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, await CountHoldersAsync(key));
    }

    [Fact]
    public async Task KeepAlives_OnAHealthyConnection_KeepTheLock()
    {
        var keepAlives = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int seen = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("db.statement") as string == AdvisoryLockSql.KeepAlive && Interlocked.Increment(ref seen) == 3)
                {
                    keepAlives.TrySetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var provider = new PostgreSqlAdvisoryLockProvider(server.DataSource, new PostgreSqlAdvisoryLockOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(50) });
        string key = NewKey();

        await using IMigrationLockHandle? held = await provider.TryAcquireAsync(key, TimeSpan.Zero);
        await keepAlives.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(held!.HandleLostToken.IsCancellationRequested);
        Assert.Equal(1, await CountHoldersAsync(key));
    }

    [Fact]
    public async Task Options_OutOfRange_AreRejected()
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(server.ConnectionString);

        Assert.Throws<ArgumentException>(() => new PostgreSqlAdvisoryLockProvider(dataSource, new PostgreSqlAdvisoryLockOptions { PollInterval = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlAdvisoryLockProvider(dataSource, new PostgreSqlAdvisoryLockOptions { KeepAliveInterval = TimeSpan.FromSeconds(-1) }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await new PostgreSqlAdvisoryLockProvider(dataSource).TryAcquireAsync(NewKey(), TimeSpan.FromSeconds(-2)));
    }

    private async Task<long> CountHoldersAsync(string key) =>
        await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM ({AdvisoryLockSql.Holder}) AS holder", key);
}
