using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// Creating the forward sync trigger on a legacy table that a transaction in flight holds never stalls the legacy
/// application: replacing a trigger waits for the table's <c>ACCESS EXCLUSIVE</c> lock, and every legacy write that
/// comes meanwhile queues behind that wait, so the creation gives up after its lock timeout and the writes go on.
/// </summary>
[Collection("postgres")]
public sealed class TriggerCreationLockTests(PostgresServer server)
{
    [Fact]
    public async Task BehindALegacyTransaction_CreateAsyncGivesUpAfterItsLockTimeout_AndTheWritesQueuedBehindItGoOn()
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        // Long enough for the two polls below to see the queue before it runs out, even on a loaded machine.
        PostgreSqlForwardSyncTriggerOptions options = Options(TimeSpan.FromSeconds(10));
        await using NpgsqlConnection legacy = await database.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await LegacyTransactionAsync(legacy);

        Task<bool> create = await CreationWaitingAsync(database, database, options);
        // Another legacy write, which queues behind the creation's wait while it lasts.
        Task<int> queued = database.ExecuteAsync("UPDATE lc SET version = 2 WHERE id = 2");
        await Eventually.TrueAsync(
            () => WaitingForTheTableAsync(database, 2),
            what: "the legacy write queues behind it"
        );
        Assert.False(queued.IsCompleted);

        // The guard against a creation that waits for the legacy transaction: its message names nothing.
        TimeoutException timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
            create.WaitAsync(TimeSpan.FromSeconds(60))
        );
        Assert.Contains("\"public\".\"lc\"", timeout.Message, StringComparison.Ordinal);
        Assert.Equal(
            PostgresErrorCodes.LockNotAvailable,
            Assert.IsType<PostgresException>(timeout.InnerException).SqlState
        );
        Assert.Equal(1, await queued.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(System.Data.ConnectionState.Open, legacy.State);
        Assert.Equal(0L, await TriggersAsync(database));

        await inFlight.CommitAsync();
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        Assert.Equal(3L, await TriggersAsync(database));
    }

    [Fact]
    public async Task WithAnInfiniteLockTimeout_CreateAsyncWaitsForTheLegacyTransaction_PastTheCommandTimeout()
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        await using NpgsqlConnection legacy = await database.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await LegacyTransactionAsync(legacy);
        // The creation's own connections have a command timeout of 1 s, which its wait outlasts.
        await using NpgsqlDataSource creation = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 1 }.ConnectionString
        );

        Task<bool> create = await CreationWaitingAsync(creation, database, Options(Timeout.InfiniteTimeSpan));
        // Until the creation has waited longer than its connection's command timeout.
        await Eventually.TrueAsync(
            () =>
                database.ScalarAsync<bool>(
                    "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        + "AND now() - query_start > interval '2 seconds' AND datname = current_database())"
                ),
            what: "the creation waits past the command timeout"
        );
        Assert.False(create.IsCompleted);

        await inFlight.CommitAsync();
        Assert.True(await create.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(3L, await TriggersAsync(database));
    }

    [Fact]
    public async Task WithALockTimeoutOfZero_CreateAsyncDoesNotWaitForTheLegacyTransaction()
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        await using NpgsqlConnection legacy = await database.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await LegacyTransactionAsync(legacy);

        TimeoutException timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
            PostgreSqlForwardSyncTrigger
                .CreateAsync(database, Options(TimeSpan.Zero))
                .AsTask()
                .WaitAsync(TimeSpan.FromSeconds(60))
        );

        Assert.IsType<PostgresException>(timeout.InnerException);
        Assert.Equal(0L, await TriggersAsync(database));
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(-5)]
    public async Task ANegativeLockTimeout_IsRefused(int milliseconds)
    {
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            PostgreSqlForwardSyncTrigger
                .CreateAsync(server.DataSource, Options(TimeSpan.FromMilliseconds(milliseconds)))
                .AsTask()
        );
        Assert.Contains("LockTimeout", refused.Message, StringComparison.Ordinal);
    }

    private static PostgreSqlForwardSyncTriggerOptions Options(TimeSpan lockTimeout) =>
        new()
        {
            LegacyTable = "lc",
            Migration = "customers",
            LockTimeout = lockTimeout,
        };

    /// <summary>A database of its own with the legacy table of two rows and the outbox, and no trigger yet.</summary>
    private async Task<NpgsqlDataSource> LegacyTableAsync()
    {
        NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await database.ExecuteAsync(
            "CREATE TABLE lc (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
                + "INSERT INTO lc VALUES (1, 'Ada', 1), (2, 'Grace', 1)"
        );
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(database));
        return database;
    }

    /// <summary>A legacy transaction in flight, holding the table's <c>ROW EXCLUSIVE</c> lock.</summary>
    private static async Task<NpgsqlTransaction> LegacyTransactionAsync(NpgsqlConnection legacy)
    {
        NpgsqlTransaction inFlight = await legacy.BeginTransactionAsync();
        await using var update = new NpgsqlCommand("UPDATE lc SET version = 2 WHERE id = 1", legacy, inFlight);
        await update.ExecuteNonQueryAsync();
        return inFlight;
    }

    /// <summary>
    /// Starts <see cref="PostgreSqlForwardSyncTrigger.CreateAsync"/> on <paramref name="creation"/> and returns it once
    /// it waits for the legacy table's lock, as <paramref name="database"/> sees.
    /// </summary>
    private static async Task<Task<bool>> CreationWaitingAsync(
        NpgsqlDataSource creation,
        NpgsqlDataSource database,
        PostgreSqlForwardSyncTriggerOptions options
    )
    {
        Task<bool> create = PostgreSqlForwardSyncTrigger.CreateAsync(creation, options).AsTask();
        await Eventually.TrueAsync(
            () => WaitingForTheTableAsync(database, 1),
            what: "the creation waits for the table"
        );
        return create;
    }

    /// <summary>Whether <paramref name="sessions"/> sessions wait for a lock on this database's legacy table.</summary>
    private static Task<bool> WaitingForTheTableAsync(NpgsqlDataSource database, int sessions) =>
        database.ScalarAsync<bool>(
            "SELECT count(*) = $1 FROM pg_locks WHERE relation = 'lc'::regclass AND NOT granted "
                + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (long)sessions
        );

    private static Task<long> TriggersAsync(NpgsqlDataSource database) =>
        database.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'lc'::regclass");
}
