using System.Reflection;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// The upgrade of forward sync triggers made by earlier versions, by the steps docs/postgresql.md gives: one made
/// before the outbox's captures table (it wrote items itself, from one trigger on every event), which needs the
/// captures table, then the trigger again; and one whose order trigger ran before each row of a write-back, which
/// needs the trigger again.
/// </summary>
[Collection("postgres")]
public sealed class TriggerUpgradeTests(PostgresServer server)
{
    private const string Migration = "customers";

    /// <summary>The names of the triggers this version makes, in order.</summary>
    private static readonly string[] ThisVersionsTriggers =
    [
        "lazymigrate_forward_sync",
        "lazymigrate_forward_sync_insert",
        "lazymigrate_forward_sync_rekey",
    ];

    [Fact]
    public async Task ATriggerMadeBeforeTheCapturesTable_IsReplacedWhole_AndTheItemsItWroteStayPending()
    {
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await database.ExecuteAsync(
            "CREATE TABLE lc (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL)"
        );
        // The outbox as it was then: this version's, but for the captures table.
        await database.ExecuteAsync(PostgreSqlOutboxSchema.CreateScript(new PostgreSqlOutboxOptions()));
        await database.ExecuteAsync("DROP TABLE lazymigrate_outbox_captures");
        await database.ExecuteAsync(await EarlierTriggerAsync());
        await database.ExecuteAsync("INSERT INTO lc VALUES (1, 'Ada', 1), (2, 'Grace', 1)");
        Assert.Equal(2L, await ForwardSyncItemsAsync(database));

        // The steps, but for the grant to the legacy role: the test writes as the superuser.
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(database));
        var options = new PostgreSqlForwardSyncTriggerOptions { LegacyTable = "lc", Migration = Migration };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        // This version's triggers and no other: each legacy write is captured once, the old way never again.
        Assert.Equal(ThisVersionsTriggers, await TriggersAsync(database));
        await database.ExecuteAsync("UPDATE lc SET version = 2 WHERE id = 1");
        await database.ExecuteAsync("INSERT INTO lc VALUES (3, 'Alan', 1)");
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox_captures"));
        Assert.Equal(2L, await ForwardSyncItemsAsync(database));

        // The items the old trigger wrote are claimed with what was captured since.
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
        IReadOnlyList<OutboxItem> claimed = await new PostgreSqlOutbox(database).ClaimAsync(
            new OutboxClaim(Migration, "owner", 10, now, now.AddMinutes(1))
        );
        Assert.Equal(
            [("1", 2L), ("2", 1L), ("3", 1L)],
            claimed.Select(i => (i.EntityId, i.Version)).OrderBy(i => i.EntityId, StringComparer.Ordinal)
        );
    }

    [Fact]
    public async Task ATriggerWhoseOrderTriggerRanBeforeEachRow_IsReplaced_AndLocksNoRowBeforeALegacyWrite()
    {
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await database.ExecuteAsync(
            "CREATE TABLE lc (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL)"
        );
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(database));
        await database.ExecuteAsync(await EarlierTriggerAsync("TriggerWithBeforeOrderTrigger.sql"));
        Assert.Equal(1L, await WriteBackOrderTests.BeforeRowTriggersAsync(database, "lc"));

        var options = new PostgreSqlForwardSyncTriggerOptions { LegacyTable = "lc", Migration = Migration };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        Assert.Equal(0L, await WriteBackOrderTests.BeforeRowTriggersAsync(database, "lc"));
        Assert.Equal(ThisVersionsTriggers, await TriggersAsync(database));
        // A WHEN clause on the re-key trigger alone; one order function, this version's (two arguments).
        Assert.Equal(
            ["lazymigrate_forward_sync_rekey"],
            await TextsAsync(
                database,
                "SELECT array_agg(tgname ORDER BY tgname) FROM pg_trigger "
                    + "WHERE tgrelid = 'lc'::regclass AND tgqual IS NOT NULL"
            )
        );
        Assert.Equal(
            ["lc_lazymigrate_forward_sync_order(text,text)"],
            await TextsAsync(
                database,
                "SELECT array_agg(oid::regprocedure::text) FROM pg_proc WHERE proname LIKE '%forward_sync_order'"
            )
        );
        await database.ExecuteAsync("INSERT INTO lc VALUES (1, 'Ada', 1)");
        await database.ExecuteAsync("UPDATE lc SET version = 2 WHERE id = 1");
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox_captures"));
    }

    [Theory]
    [InlineData("DROP TRIGGER lazymigrate_forward_sync_insert ON lc")]
    [InlineData("DROP TRIGGER lazymigrate_forward_sync_rekey ON lc")]
    [InlineData("ALTER TABLE lc DISABLE TRIGGER lazymigrate_forward_sync_insert")]
    [InlineData("ALTER TABLE lc ENABLE REPLICA TRIGGER lazymigrate_forward_sync")]
    [InlineData(
        "DROP TRIGGER lazymigrate_forward_sync_rekey ON lc; CREATE TRIGGER lazymigrate_forward_sync_rekey "
            + "AFTER UPDATE OF full_name ON lc FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) "
            + "EXECUTE FUNCTION lc_lazymigrate_forward_sync_new('customers')"
    )]
    [InlineData(
        "CREATE OR REPLACE FUNCTION lc_lazymigrate_forward_sync_order(text, text) RETURNS void "
            + "LANGUAGE plpgsql AS 'BEGIN END'"
    )]
    [InlineData(
        "CREATE TRIGGER lazymigrate_forward_sync_order BEFORE UPDATE ON lc "
            + "FOR EACH ROW EXECUTE FUNCTION lc_lazymigrate_forward_sync_new('customers')"
    )]
    public async Task TriggersChangedByHand_AreReplaced_AndCaptureEachLegacyWriteOnce(string change)
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        var options = new PostgreSqlForwardSyncTriggerOptions { LegacyTable = "lc", Migration = Migration };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        await database.ExecuteAsync(change);

        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        Assert.Equal(ThisVersionsTriggers, await TriggersAsync(database));
        await database.ExecuteAsync("INSERT INTO lc VALUES (1, 'Ada', 1)");
        await database.ExecuteAsync("UPDATE lc SET id = 2 WHERE id = 1");
        Assert.Equal(
            ["1", "1", "2"],
            await TextsAsync(database, "SELECT array_agg(entity_id ORDER BY sequence) FROM lazymigrate_outbox_captures")
        );
    }

    [Fact]
    public async Task ATriggerMadeForAnotherMigrationName_IsReplaced_AndCapturesUnderThisOne()
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        var options = new PostgreSqlForwardSyncTriggerOptions { LegacyTable = "lc", Migration = "before" };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        options.Migration = Migration;
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        await database.ExecuteAsync("INSERT INTO lc VALUES (1, 'Ada', 1)");
        Assert.Equal(
            [Migration],
            await TextsAsync(database, "SELECT array_agg(migration) FROM lazymigrate_outbox_captures")
        );
    }

    [Fact]
    public async Task TheRemovalDocsPostgreSqlGives_LeavesNoTriggerNorFunction_AndLegacyWritesGoOn()
    {
        await using NpgsqlDataSource database = await LegacyTableAsync();
        var options = new PostgreSqlForwardSyncTriggerOptions { LegacyTable = "lc", Migration = Migration };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(database, options));

        // docs/postgresql.md, "Installing, checking and removing the triggers", for the table lc.
        await database.ExecuteAsync(
            """
            DROP TRIGGER IF EXISTS lazymigrate_forward_sync ON lc;
            DROP TRIGGER IF EXISTS lazymigrate_forward_sync_insert ON lc;
            DROP TRIGGER IF EXISTS lazymigrate_forward_sync_rekey ON lc;
            DROP FUNCTION IF EXISTS lc_lazymigrate_forward_sync();
            DROP FUNCTION IF EXISTS lc_lazymigrate_forward_sync_new();
            DROP FUNCTION IF EXISTS lc_lazymigrate_forward_sync_order(text, text);
            """
        );

        Assert.Empty(await TriggersAsync(database));
        Assert.Empty(await TextsAsync(database, "SELECT array_agg(proname) FROM pg_proc WHERE proname LIKE 'lc\\_%'"));
        await database.ExecuteAsync("INSERT INTO lc VALUES (1, 'Ada', 1)");
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox_captures"));
    }

    /// <summary>A database of its own with the legacy table and the outbox, and no trigger yet.</summary>
    private async Task<NpgsqlDataSource> LegacyTableAsync()
    {
        NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await database.ExecuteAsync(
            "CREATE TABLE lc (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL)"
        );
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(database));
        return database;
    }

    private static async Task<string> EarlierTriggerAsync(string name = "TriggerBeforeTheCapturesTable.sql")
    {
        await using Stream script = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)!;
        using var reader = new StreamReader(script);
        return await reader.ReadToEndAsync();
    }

    private static Task<long> ForwardSyncItemsAsync(NpgsqlDataSource database) =>
        database.ScalarAsync<long>(
            $"SELECT count(*) FROM lazymigrate_outbox WHERE kind = {(int)OutboxItemKind.ForwardSync}"
        );

    /// <summary>The names of the legacy table's own triggers, in order; none when it has none.</summary>
    private static Task<string[]> TriggersAsync(NpgsqlDataSource database) =>
        TextsAsync(
            database,
            "SELECT array_agg(tgname ORDER BY tgname) FROM pg_trigger "
                + "WHERE tgrelid = 'lc'::regclass AND NOT tgisinternal"
        );

    /// <summary>The texts a query's one array holds; none when it is null (an aggregate over no row).</summary>
    private static async Task<string[]> TextsAsync(NpgsqlDataSource database, string sql) =>
        await database.ScalarAsync<string[]>(sql) ?? [];
}
