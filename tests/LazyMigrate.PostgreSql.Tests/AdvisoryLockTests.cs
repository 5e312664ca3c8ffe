using System.Diagnostics;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// What the advisory lock does beyond the lock contract: one session per lock, release that frees at once, loss
/// noticed.
/// </summary>
[Collection("postgres")]
public sealed class AdvisoryLockTests(PostgresServer server)
{
    private static string NewKey() => $"lazymigrate:advisory-test:{Guid.NewGuid():N}";

    [Fact]
    public async Task AHeldLock_IsAnAdvisoryLockOfItsOwnSession_GoneOnRelease()
    {
        var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
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
        var first = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
        var second = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
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
        var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
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
        var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource, timeProvider: new FakeTimeProvider());
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
        var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource, timeProvider: time);
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
    public async Task AWaitCancelled_BetweenTries_ThrowsAndLeavesNoLockBehind()
    {
        string waiterName = $"lazymigrate-waiter-{Guid.NewGuid():N}";
        await using NpgsqlDataSource waiterSource = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { ApplicationName = waiterName }.ConnectionString
        );
        var holder = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
        var waiter = new PostgreSqlAdvisoryLockProvider(waiterSource);
        string key = NewKey();
        await using IMigrationLockHandle? held = await holder.TryAcquireAsync(key, TimeSpan.Zero);
        using var cancellation = new CancellationTokenSource();

        Task<IMigrationLockHandle?> waiting = waiter
            .TryAcquireAsync(key, Timeout.InfiniteTimeSpan, cancellation.Token)
            .AsTask();
        // The gate: the waiter's session was refused once and sleeps before its next try.
        await AdvisoryLockWaiters.UntilBetweenTriesAsync(server.DataSource, [waiterName], [AdvisoryLockSql.TryLock]);
        Assert.False(waiting.IsCompleted);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await CountHoldersAsync(key));
        Assert.Equal(0, await server.DataSource.ScalarAsync<long>(AdvisoryLocksHeldBy, waiterName));
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
                if (
                    activity.GetTagItem("db.statement") as string == AdvisoryLockSql.KeepAlive
                    && Interlocked.Increment(ref seen) == 3
                )
                {
                    keepAlives.TrySetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var provider = new PostgreSqlAdvisoryLockProvider(
            server.DataSource,
            new PostgreSqlAdvisoryLockOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(50) }
        );
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

        Assert.Throws<ArgumentException>(() =>
            new PostgreSqlAdvisoryLockProvider(
                dataSource,
                new PostgreSqlAdvisoryLockOptions { PollInterval = TimeSpan.Zero }
            )
        );
        Assert.Throws<ArgumentException>(() =>
            new PostgreSqlAdvisoryLockProvider(
                dataSource,
                new PostgreSqlAdvisoryLockOptions { KeepAliveInterval = TimeSpan.FromSeconds(-1) }
            )
        );
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await new PostgreSqlAdvisoryLockProvider(dataSource).TryAcquireAsync(NewKey(), TimeSpan.FromSeconds(-2))
        );
    }

    [Fact]
    public async Task ABatch_IsHeldByOneSession_AndAPartlyGrantedTryKeepsNone()
    {
        var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
        string[] keys = [NewKey(), NewKey(), NewKey()];
        await using IMigrationLockHandle? other = await provider.TryAcquireAsync(keys[2], TimeSpan.Zero);

        IMigrationLockHandle? refused = await provider.TryAcquireManyAsync(keys, TimeSpan.Zero);
        long heldAfterRefusal = await CountHoldersAsync(keys[0]) + await CountHoldersAsync(keys[1]);
        await other!.DisposeAsync();
        IMigrationLockHandle? batch = await provider.TryAcquireManyAsync(keys, TimeSpan.Zero);
        long sessions = await server.DataSource.ScalarAsync<long>(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                + "AND ((classid::bigint << 32) | objid::bigint) "
                + "IN (SELECT hashtextextended(k, 0) FROM unnest($1::text[]) AS u(k))",
            (object)keys
        );
        await batch!.DisposeAsync();

        Assert.Null(refused);
        Assert.Equal(0, heldAfterRefusal);
        Assert.Equal(1, sessions);
        Assert.Equal(
            0,
            await CountHoldersAsync(keys[0]) + await CountHoldersAsync(keys[1]) + await CountHoldersAsync(keys[2])
        );
    }

    // As many ids as connections: the locks used to take them all, and the re-read under them failed as the new store.
    // More ids than connections: a lock itself used to wait for a connection, and fail.
    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    public async Task GetMany_OfAsManyOrMoreMissingIdsThanThePoolHasConnections_MigratesThemAll(int count)
    {
        await using NpgsqlDataSource small = SmallPool(maxPoolSize: 10);
        await using ServiceProvider services = AdvisoryLockedMigration(small, small);
        string[] ids = [.. Enumerable.Range(0, count).Select(n => $"pool-{n:D2}")];
        var old = services.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer");
        foreach (string id in ids)
        {
            await old.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        var repository = services.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        IReadOnlyDictionary<string, Customer> migrated = await repository.GetManyAsync(ids);

        Assert.Equal(ids.Length, migrated.Count);
    }

    [Fact]
    public async Task ALockThatCannotGetAConnection_FailsAsTheLock_NotAsAStore()
    {
        await using NpgsqlDataSource small = SmallPool(maxPoolSize: 1);
        await using ServiceProvider services = AdvisoryLockedMigration(server.DataSource, small);
        await services
            .GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer")
            .UpsertAsync("starved", LegacyCustomer.Create("starved", 1));
        await using NpgsqlConnection taken = await small.OpenConnectionAsync();

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await services.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("starved")
        );

        Assert.Equal(MigrationRole.Lock, failure.Role);
        Assert.Contains("Lock", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServersLockDataSource_GrantsALock_WhileEveryStoreConnectionIsTaken()
    {
        var taken = new List<NpgsqlConnection>();
        try
        {
            for (int i = 0; i < PostgresServer.StorePoolSize; i++)
            {
                taken.Add(await server.DataSource.OpenConnectionAsync());
            }

            var provider = new PostgreSqlAdvisoryLockProvider(server.LockDataSource);
            await using IMigrationLockHandle? held = await provider
                .TryAcquireAsync(NewKey(), TimeSpan.Zero)
                .AsTask()
                .WaitAsync(TimeSpan.FromSeconds(10));

            Assert.NotNull(held);
        }
        finally
        {
            foreach (NpgsqlConnection connection in taken)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>A pool of a few connections that gives up waiting for one after a second.</summary>
    private NpgsqlDataSource SmallPool(int maxPoolSize) =>
        NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString)
            {
                MaxPoolSize = maxPoolSize,
                Timeout = 1,
            }.ConnectionString
        );

    private static ServiceProvider AdvisoryLockedMigration(NpgsqlDataSource stores, NpgsqlDataSource locks)
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.MaxRetryAttempts = 0)
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true), stores)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true), stores)
            .UsePostgreSqlAdvisoryLock(dataSource: locks);
        return services.BuildServiceProvider();
    }

    private const string AdvisoryLocksHeldBy =
        "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
        + "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1";

    private async Task<long> CountHoldersAsync(string key) =>
        await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM ({AdvisoryLockSql.Holder}) AS holder", key);
}
