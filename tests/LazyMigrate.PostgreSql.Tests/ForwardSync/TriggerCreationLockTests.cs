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
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await database.ExecuteAsync(
            "CREATE TABLE lc (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
                + "INSERT INTO lc VALUES (1, 'Ada', 1), (2, 'Grace', 1)"
        );
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(database));
        var options = new PostgreSqlForwardSyncTriggerOptions
        {
            LegacyTable = "lc",
            Migration = "customers",
            LockTimeout = TimeSpan.FromSeconds(2),
        };

        // A legacy transaction in flight, holding the table's ROW EXCLUSIVE lock.
        await using NpgsqlConnection legacy = await database.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await legacy.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand("UPDATE lc SET version = 2 WHERE id = 1", legacy, inFlight))
        {
            await update.ExecuteNonQueryAsync();
        }

        Task<bool> create = PostgreSqlForwardSyncTrigger.CreateAsync(database, options).AsTask();
        await Eventually.TrueAsync(
            () =>
                database.ScalarAsync<bool>(
                    "SELECT EXISTS (SELECT FROM pg_locks WHERE relation = 'lc'::regclass AND NOT granted)"
                ),
            what: "the creation waits for the legacy table's lock"
        );
        // Another legacy write, which queues behind the creation's wait while it lasts.
        Task<int> queued = database.ExecuteAsync("UPDATE lc SET version = 2 WHERE id = 2");

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
        Assert.Equal(
            0L,
            await database.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'lc'::regclass")
        );

        await inFlight.CommitAsync();
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task ALockTimeoutThatIsNotPositive_IsRefused(int milliseconds)
    {
        var options = new PostgreSqlForwardSyncTriggerOptions
        {
            LegacyTable = "lc",
            Migration = "customers",
            LockTimeout = TimeSpan.FromMilliseconds(milliseconds),
        };

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            PostgreSqlForwardSyncTrigger.CreateAsync(server.DataSource, options).AsTask()
        );
        Assert.Contains("LockTimeout", refused.Message, StringComparison.Ordinal);
    }
}
