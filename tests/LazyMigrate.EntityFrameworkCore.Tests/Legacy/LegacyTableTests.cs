using System.Globalization;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.EntityFrameworkCore.Tests.Legacy;

/// <summary>
/// The EF Core old store over a legacy table it did not create: a write-back changes only what it must, and the keys
/// it inserts never collide with the legacy application's own inserts.
/// </summary>
public abstract class LegacyTableTests(TestDatabase database, bool autoincrement = false) : IAsyncLifetime
{
    private static readonly DateTime UpdatedAt = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task Upserts_SavesAndADeleteThenRecreate_LeaveTheUnmappedColumnAsTheLegacyApplicationSetIt()
    {
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement);
        var store = Store(db);
        await LegacyTable.SeedAsync(db, 1, "Ada Lovelace", UpdatedAt, "checked by billing");

        await store.UpsertAsync("1", Contact("Ada King", version: 2));
        await store.UpsertAsync("1", Contact("Ada King", version: 3));
        Assert.Equal("checked by billing", await LegacyTable.AuditOfAsync(db, 1));

        await store.DeleteAsync("1");
        await store.UpsertAsync("1", Contact("Ada Byron", version: 4));

        // Recreated: a new row, with the database's defaults where the model sent nothing.
        Assert.Equal(LegacyTable.DefaultAudit, await LegacyTable.AuditOfAsync(db, 1));
        LegacyContact row = (await store.FindAsync("1"))!;
        Assert.Equal(("Ada Byron", 4), (row.FullName, row.Version));
        Assert.NotNull(row.UpdatedAt);
    }

    [Fact]
    public async Task Upsert_CarryingTheRowsCurrentValues_UpdatesOnlyTheChangedColumns()
    {
        var log = new CommandLog();
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement, log);
        var store = Store(db);
        await LegacyTable.SeedAsync(db, 1, "Ada Lovelace", UpdatedAt, "checked by billing");
        LegacyContact current = (await store.FindAsync("1"))!;

        log.Clear();
        await store.UpsertAsync("1", current);
        string[] unchanged = [.. log.Commands.Where(IsUpdate)];
        current.FullName = "Ada King";
        log.Clear();
        await store.UpsertAsync("1", current);
        string update = Assert.Single(log.Commands, IsUpdate);

        Assert.Empty(unchanged);
        Assert.Contains("full_name", update, StringComparison.Ordinal);
        Assert.DoesNotContain("updated_at", update, StringComparison.Ordinal);
        Assert.DoesNotContain("phone", update, StringComparison.Ordinal);
        Assert.Equal(UpdatedAt, (await store.FindAsync("1"))!.UpdatedAt);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // one UpsertManyAsync: the sequence goes past the largest key, not the last
    public async Task LegacyInsert_AfterRowsCreatedWithExplicitKeysAtAndAboveItsSequence_DoesNotCollide(bool batched)
    {
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement);
        var store = Store(db);
        Assert.Equal(1, await LegacyTable.InsertAsync(db, "Legacy One"));
        Assert.Equal(2, await LegacyTable.InsertAsync(db, "Legacy Two"));

        // 3 is the legacy table's next key, 20001 the one of the issue, far above it; 7 comes after it.
        string[] ids = ["3", "20001", "7"];
        if (batched)
        {
            await store.UpsertManyAsync([.. ids.Select(id => KeyValuePair.Create(id, Contact($"New {id}", 1)))]);
        }
        else
        {
            foreach (string id in ids)
            {
                await store.UpsertAsync(id, Contact($"New {id}", version: 1));
            }
        }

        Assert.Equal(20002, await LegacyTable.InsertAsync(db, "Legacy Three"));
    }

    [Fact]
    public async Task KeysInsertedHighThenLower_LeaveTheSequenceAtTheHighest()
    {
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement);
        var store = Store(db);

        await store.UpsertAsync("1007", Contact("High", version: 1));
        await store.UpsertAsync("1003", Contact("Lower", version: 1));

        Assert.Equal(1008, await LegacyTable.InsertAsync(db, "Legacy"));
    }

    [Fact]
    public async Task ConcurrentInsertsOfHighKeys_LeaveTheSequenceAtTheHighest()
    {
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement);
        var store = Store(db);

        await StartingGate.RunAsync(
            8,
            async i =>
            {
                string id = (1000 + i).ToString(CultureInfo.InvariantCulture);
                await store.UpsertAsync(id, Contact($"New {id}", version: 1));
                return 0;
            }
        );

        Assert.Equal(1008, await LegacyTable.InsertAsync(db, "Legacy"));
    }

    [Fact]
    public async Task UpsertMany_LeavesTheUnmappedColumnAsTheLegacyApplicationSetIt_AndInsertsTheMissingWithDefaults()
    {
        ContextFactory<LegacyDb> db = await LegacyTable.CreateAsync(database, autoincrement);
        var store = Store(db);
        await LegacyTable.SeedAsync(db, 1, "Ada Lovelace", UpdatedAt, "checked by billing");

        await store.UpsertManyAsync([new("1", Contact("Ada King", version: 2)), new("2", Contact("New", version: 1))]);

        Assert.Equal("checked by billing", await LegacyTable.AuditOfAsync(db, 1));
        Assert.Equal(LegacyTable.DefaultAudit, await LegacyTable.AuditOfAsync(db, 2));
        var rows = await store.FindManyAsync(["1", "2"]);
        Assert.Equal(("Ada King", 2), (rows["1"].FullName, rows["1"].Version));
        Assert.Equal(("New", 1), (rows["2"].FullName, rows["2"].Version));
    }

    protected Task<ContextFactory<LegacyDb>> CreateTableAsync() => LegacyTable.CreateAsync(database, autoincrement);

    protected static EntityFrameworkCoreOldStore<LegacyDb, LegacyContact, int> Store(ContextFactory<LegacyDb> db) =>
        new(db, d => d.Customers, c => c.Id);

    protected static LegacyContact Contact(string fullName, int version) =>
        new() { FullName = fullName, Version = version };

    private static bool IsUpdate(string command) => command.Contains("UPDATE ", StringComparison.Ordinal);
}

public sealed class SqliteLegacyTableTests() : LegacyTableTests(new SqliteFiles(writeAheadLog: false));

/// <summary>SQLite's <c>AUTOINCREMENT</c> keeps its own counter, which explicit keys move too.</summary>
public sealed class SqliteAutoincrementLegacyTableTests()
    : LegacyTableTests(new SqliteFiles(writeAheadLog: false), autoincrement: true);

[Collection("postgres")]
public sealed class PostgresLegacyTableTests(PostgresServer server) : LegacyTableTests(new PostgresDatabases(server))
{
    /// <summary>("LMSQ", the sequence's OID): the lock LazyMigrate.PostgreSql's table store takes on it too.</summary>
    private const string SequenceLock = "1280136017, 'legacy_customers_id_seq'::regclass::oid::int";

    [Fact]
    public async Task Upsert_OfAHighKey_TakesTheSequenceLockTheTableStoreTakes()
    {
        ContextFactory<LegacyDb> db = await CreateTableAsync();
        var store = Store(db);
        await using var holder = new NpgsqlConnection(db.ConnectionString);
        await holder.OpenAsync();
        await using var watcher = new NpgsqlConnection(db.ConnectionString);
        await watcher.OpenAsync();
        await Run(holder, $"SELECT pg_advisory_lock({SequenceLock})");

        Task upsert = store.UpsertAsync("1007", Contact("High", version: 1)).AsTask();
        await Eventually.TrueAsync(
            async () =>
                await Run(
                    watcher,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2 "
                        + "AND classid = 1280136017 AND objid = 'legacy_customers_id_seq'::regclass::oid"
                ) == 1,
            what: "the upsert waits for the sequence's lock"
        );
        await Run(holder, $"SELECT pg_advisory_unlock({SequenceLock})");
        await upsert;

        Assert.Equal(1008, await LegacyTable.InsertAsync(db, "Legacy"));
    }

    private static async Task<long> Run(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        object? value = await command.ExecuteScalarAsync();
        return value is long count ? count : 0;
    }
}
