using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// Keys the legacy table can live with: upserts of explicit keys keep the key's sequence ahead of them, so the legacy
/// application's own inserts (through the sequence) never collide;
/// <see cref="PostgreSqlTableOldStore{TOld}.NextIdAsync"/> hands out keys from that sequence.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreSequenceTests(PostgresServer server)
{
    [Theory]
    [InlineData(PostgreSqlKeyType.Integer)]
    [InlineData(PostgreSqlKeyType.BigInt)]
    public async Task LegacyInsert_AfterUpsertsOfKeysPastTheSequence_TakesTheKeyAfterThem(PostgreSqlKeyType keyType)
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, keyType);
        for (int i = 0; i < 3; i++)
        {
            await LegacyInsertAsync(store.TableName);
        }

        await store.UpsertAsync("4", LegacyCustomer.Create("4", 1));
        await store.UpsertAsync("5", LegacyCustomer.Create("5", 1));
        await store.UpsertAsync("2", LegacyCustomer.Create("2", 2)); // below the sequence: it stays where it is

        Assert.Equal(6, await LegacyInsertAsync(store.TableName));
    }

    [Theory]
    [InlineData(PostgreSqlKeyType.Integer)]
    [InlineData(PostgreSqlKeyType.BigInt)]
    public async Task LegacyInsert_AfterABatchUpsertOfKeysPastTheSequence_TakesTheKeyAfterTheLargest(
        PostgreSqlKeyType keyType
    )
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, keyType);
        for (int i = 0; i < 3; i++)
        {
            await LegacyInsertAsync(store.TableName);
        }

        // The largest key is neither first nor last, and one key is below the sequence.
        await store.UpsertManyAsync([
            .. new[] { "7", "12", "2", "9" }.Select(id => new KeyValuePair<string, LegacyCustomer>(
                id,
                LegacyCustomer.Create(id, 1)
            )),
        ]);

        Assert.Equal(13, await LegacyInsertAsync(store.TableName));
    }

    [Fact]
    public async Task LegacyInsert_AfterAnUpsertOfKeyOneOnAFreshSequence_TakesTwo()
    {
        // A fresh sequence has last_value 1 with is_called false: its next value is 1 itself, so key 1 must advance it.
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Integer);

        await store.UpsertAsync("1", LegacyCustomer.Create("1", 1));

        Assert.Equal(2, await LegacyInsertAsync(store.TableName));
    }

    [Fact]
    public async Task Upsert_OfAnExplicitKeyIntoAnAlwaysGeneratedIdentity_WritesIt_AndAdvancesTheIdentity()
    {
        string table = TestDatabase.UniqueTable("identity");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                + "full_name text NOT NULL, version integer NOT NULL)"
        );
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            server.DataSource,
            LegacyTables.CustomerOptions(table, PostgreSqlKeyType.BigInt)
        );

        await store.UpsertAsync("40", LegacyCustomer.Create("40", 1));
        await store.UpsertAsync("40", LegacyCustomer.Create("40", 2));

        Assert.Equal(2, (await store.FindAsync("40"))!.Version);
        Assert.Equal(41, await LegacyInsertAsync($"\"public\".\"{table}\""));
    }

    [Fact]
    public async Task ConcurrentUpserts_OfHighKeys_LeaveTheSequenceAtTheHighest()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Integer);
        string table = LegacyTables.Unquoted(store.TableName);
        string lockKey = $"\"public\".\"{table}_id_seq\"";
        await using NpgsqlConnection holder = await server.DataSource.OpenConnectionAsync();
        await ExecuteAsync(holder, "SELECT pg_advisory_lock(1280136017, $1::regclass::oid::int)", lockKey);

        // Both wait for the sequence's lock, the higher key first: whoever comes second must not move it back.
        Task high = store.UpsertAsync("800", LegacyCustomer.Create("800", 1)).AsTask();
        await Eventually.TrueAsync(async () => await WaitersAsync(lockKey) == 1, what: "the first upsert waits");
        Task low = store.UpsertAsync("300", LegacyCustomer.Create("300", 1)).AsTask();
        await Eventually.TrueAsync(async () => await WaitersAsync(lockKey) == 2, what: "both upserts wait");
        await ExecuteAsync(holder, "SELECT pg_advisory_unlock(1280136017, $1::regclass::oid::int)", lockKey);
        await Task.WhenAll(high, low);

        Assert.Equal(801, await LegacyInsertAsync(store.TableName));
    }

    [Fact]
    public async Task ConcurrentUpserts_OfManyHighKeys_LeaveTheSequenceAtTheHighest()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.BigInt);
        string[] keys = [.. Enumerable.Range(1, 16).Select(i => (i * 37 % 16 * 100 + 1000).ToString())];
        using var start = new Barrier(keys.Length);

        await Task.WhenAll(
            keys.Select(key =>
                Task.Run(async () =>
                {
                    start.SignalAndWait();
                    await store.UpsertAsync(key, LegacyCustomer.Create(key, 1));
                })
            )
        );

        Assert.Equal(keys.Max(long.Parse) + 1, await LegacyInsertAsync(store.TableName));
    }

    [Fact]
    public async Task NextId_ReturnsIncreasingKeysFromTheSequence_PastExplicitKeys()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Integer);

        string first = await store.NextIdAsync();
        string second = await store.NextIdAsync();
        await store.UpsertAsync("50", LegacyCustomer.Create("50", 1));
        string third = await store.NextIdAsync();
        long legacy = await LegacyInsertAsync(store.TableName);

        Assert.Equal(["1", "2", "51"], [first, second, third]);
        Assert.Equal(52, legacy);
    }

    [Fact]
    public async Task NextId_OfAKeyWithoutASequence_FailsNamingTheTable()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Uuid);
        string table = TestDatabase.UniqueTable("plain");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL)"
        );
        var plain = new PostgreSqlTableOldStore<LegacyCustomer>(
            server.DataSource,
            LegacyTables.CustomerOptions(table, PostgreSqlKeyType.Integer)
        );

        var uuid = await Assert.ThrowsAsync<InvalidOperationException>(() => store.NextIdAsync().AsTask());
        var integer = await Assert.ThrowsAsync<InvalidOperationException>(() => plain.NextIdAsync().AsTask());
        await plain.UpsertAsync("7", LegacyCustomer.Create("7", 1)); // no sequence to advance: the upsert still works

        Assert.Contains(store.TableName, uuid.Message, StringComparison.Ordinal);
        Assert.Contains($"\"public\".\"{table}\"", integer.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await plain.FindAsync("7"))!.Version);
    }

    [Fact]
    public async Task Upsert_WithoutPrivilegesOnTheSequence_FailsWritingNothing_AndWorksWithoutAdvancing()
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer);
        string role = $"limited_{Guid.NewGuid():N}";
        await server.DataSource.ExecuteAsync(
            $"CREATE ROLE \"{role}\" LOGIN; GRANT USAGE ON SCHEMA public TO \"{role}\"; "
                + $"GRANT SELECT, INSERT, UPDATE, DELETE ON \"{table}\" TO \"{role}\""
        );
        await using NpgsqlDataSource limited = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { Username = role }.ConnectionString
        );
        var advancing = new PostgreSqlTableOldStore<LegacyCustomer>(
            limited,
            LegacyTables.CustomerOptions(table, PostgreSqlKeyType.Integer)
        );
        var options = LegacyTables.CustomerOptions(table, PostgreSqlKeyType.Integer);
        options.AdvanceKeySequence = false;
        var notAdvancing = new PostgreSqlTableOldStore<LegacyCustomer>(limited, options);

        var denied = await Assert.ThrowsAsync<PostgresException>(() =>
            advancing.UpsertAsync("50", LegacyCustomer.Create("50", 1)).AsTask()
        );
        long afterDenied = await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{table}\"");
        await notAdvancing.UpsertAsync("50", LegacyCustomer.Create("50", 2));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        Assert.Equal(0, afterDenied);
        Assert.Equal(2, (await notAdvancing.FindAsync("50"))!.Version);
    }

    /// <summary>An insert as the legacy application makes it: the key from the sequence.</summary>
    private async Task<long> LegacyInsertAsync(string table) =>
        Convert.ToInt64(
            await server.DataSource.ScalarAsync<object>(
                $"INSERT INTO {table} (full_name, version) VALUES ('Legacy App', 0) RETURNING id"
            )
        );

    private async Task<long> WaitersAsync(string key) =>
        await server.DataSource.ScalarAsync<long>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                + "AND objsubid = 2 AND classid = 1280136017 AND objid = $1::regclass::oid",
            key
        );

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, string key)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await command.ExecuteNonQueryAsync();
    }
}
