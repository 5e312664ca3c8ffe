using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// The capture trigger with <see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/>: a legacy write marks the
/// new store's row stale in its own transaction, so the very next read through the new API syncs it from the legacy
/// table and returns it, with no dispatcher run; an id the new store does not hold is left to migrate; LazyMigrate's
/// own write-backs mark nothing.
/// </summary>
[Collection("postgres")]
public sealed class StaleMarkTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";

    public static TheoryData<WriteBackMode, bool> Modes =>
        new()
        {
            { WriteBackMode.Async, true },
            { WriteBackMode.Sync, true },
            { WriteBackMode.Async, false },
            { WriteBackMode.Sync, false },
        };

    private NpgsqlDataSource DataSource => server.DataSource;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ALegacyUpdate_IsReturnedByTheNextGet_WithNoDrain_AndTheMarkIsCleared(
        WriteBackMode mode,
        bool newStoreLock
    )
    {
        await using Setup setup = await SetUpAsync(mode, newStoreLock);
        await setup.LegacyInsertAsync(1, "Ada L");
        Assert.Equal("Ada", (await setup.Repository.GetAsync("1"))?.FirstName);
        await setup.Dispatcher.DrainAsync();
        Assert.False(await setup.StaleAsync("1"));

        await DataSource.ExecuteAsync(
            $"UPDATE \"{setup.Legacy}\" SET full_name = 'Ada King', version = 2 WHERE id = 1"
        );
        Assert.True(await setup.StaleAsync("1"));

        Assert.Equal(("Ada", "King", 2), Names(await setup.Repository.GetAsync("1")));
        Assert.False(await setup.StaleAsync("1"));
        Assert.Equal(2, await setup.NewVersionAsync("1"));

        // The item stays for the dispatcher, which finds nothing left to do.
        await setup.Dispatcher.DrainAsync();
        Assert.Equal(("Ada", "King", 2), Names(await setup.Repository.GetAsync("1")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ALegacyUpdate_IsReturnedByTheNextGetMany_TheOthersAsTheyAre(WriteBackMode mode, bool newStoreLock)
    {
        await using Setup setup = await SetUpAsync(mode, newStoreLock);
        await setup.LegacyInsertAsync(1, "Ada L");
        await setup.LegacyInsertAsync(2, "Grace H");
        Assert.Equal(2, (await setup.Repository.GetManyAsync(["1", "2"])).Count);
        await setup.Dispatcher.DrainAsync();

        await DataSource.ExecuteAsync(
            $"UPDATE \"{setup.Legacy}\" SET full_name = 'Ada King', version = 2 WHERE id = 1"
        );

        IReadOnlyDictionary<string, Customer> read = await setup.Repository.GetManyAsync(["1", "2"]);
        Assert.Equal(("Ada", "King", 2), Names(read["1"]));
        Assert.Equal(("Grace", "H", 1), Names(read["2"]));
        Assert.False(await setup.StaleAsync("1"));
        Assert.False(await setup.StaleAsync("2"));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ALegacyDelete_MakesTheNextGetReturnNull(WriteBackMode mode, bool newStoreLock)
    {
        await using Setup setup = await SetUpAsync(mode, newStoreLock);
        await setup.LegacyInsertAsync(1, "Ada L");
        Assert.NotNull(await setup.Repository.GetAsync("1"));
        await setup.Dispatcher.DrainAsync();

        await DataSource.ExecuteAsync($"DELETE FROM \"{setup.Legacy}\" WHERE id = 1");
        Assert.True(await setup.StaleAsync("1"));

        Assert.Null(await setup.Repository.GetAsync("1"));
        Assert.False(await setup.StaleAsync("1"));
        Assert.True(
            await DataSource.ScalarAsync<bool>($"SELECT deleted FROM \"{setup.NewTable}\" WHERE id = '1'"),
            "a tombstone"
        );
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ALegacyInsert_OfAnIdTheNewStoreNeverHeld_CreatesNoRow_AndMigratesOnItsFirstRead(
        WriteBackMode mode,
        bool newStoreLock
    )
    {
        await using Setup setup = await SetUpAsync(mode, newStoreLock);

        await setup.LegacyInsertAsync(2, "Grace H");

        Assert.Equal(0L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{setup.NewTable}\""));
        Assert.Single(await setup.Outbox.FindAsync(Migration, ["2"]));
        Assert.Equal(("Grace", "H", 1), Names(await setup.Repository.GetAsync("2")));
        Assert.False(await setup.StaleAsync("2"));
        await setup.Dispatcher.DrainAsync();
        Assert.Equal(("Grace", "H", 1), Names(await setup.Repository.GetAsync("2")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AWriteBack_MarksNothingStale(WriteBackMode mode, bool newStoreLock)
    {
        await using Setup setup = await SetUpAsync(mode, newStoreLock);
        await setup.LegacyInsertAsync(1, "Ada L");
        Assert.NotNull(await setup.Repository.GetAsync("1"));
        await setup.Dispatcher.DrainAsync();

        // A Sync write-back is written by the save, an Async one by the dispatcher's next batch; nothing after it.
        await setup.Repository.SaveAsync("1", Customer.Create("1", 3));
        if (mode == WriteBackMode.Async)
        {
            Assert.Equal(1, await setup.Dispatcher.RunOnceAsync());
        }

        Assert.Equal(
            "First3 Last3",
            await DataSource.ScalarAsync<string>($"SELECT full_name FROM \"{setup.Legacy}\" WHERE id = 1")
        );
        Assert.False(await setup.StaleAsync("1"));
        Assert.DoesNotContain(
            await setup.Outbox.FindAsync(Migration, ["1"]),
            i => i.Kind == OutboxItemKind.ForwardSync
        );
    }

    [Fact]
    public async Task WithoutTheOption_ALegacyUpdateWaitsForTheDispatcher()
    {
        await using Setup setup = await SetUpAsync(WriteBackMode.Async, newStoreLock: true, markNewStore: false);
        await setup.LegacyInsertAsync(1, "Ada L");
        Assert.NotNull(await setup.Repository.GetAsync("1"));
        await setup.Dispatcher.DrainAsync();

        await DataSource.ExecuteAsync(
            $"UPDATE \"{setup.Legacy}\" SET full_name = 'Ada King', version = 2 WHERE id = 1"
        );

        Assert.False(await setup.StaleAsync("1"));
        Assert.Equal(("Ada", "L", 1), Names(await setup.Repository.GetAsync("1")));
        await setup.Dispatcher.DrainAsync();
        Assert.Equal(("Ada", "King", 2), Names(await setup.Repository.GetAsync("1")));
    }

    [Fact]
    public async Task TheScript_RefusesANewStoreTableThatIsMissingOrLacksTheStaleColumn()
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        PostgreSqlOutboxOptions outbox = OutboxTables.Options();
        await PostgreSqlOutboxSchema.CreateAsync(DataSource, outbox);
        string old = TestDatabase.UniqueTable("old");
        await DataSource.ExecuteAsync(StaleColumnTests.FirstLayout(old));
        PostgreSqlForwardSyncTriggerOptions Options(string table) =>
            new()
            {
                LegacyTable = legacy,
                Migration = Migration,
                OutboxTable = outbox.TableName,
                NewStoreTable = table,
            };

        // CreateAsync says what is missing (TriggerPrerequisiteTests); the script itself fails on the server's error.
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, Options(TestDatabase.UniqueTable("none")))
        );
        var noColumn = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, Options(old))
        );

        Assert.Equal(
            PostgresErrorCodes.UndefinedTable,
            Assert.IsType<PostgresException>(missing.InnerException).SqlState
        );
        Assert.Equal(
            PostgresErrorCodes.UndefinedColumn,
            Assert.IsType<PostgresException>(noColumn.InnerException).SqlState
        );
    }

    [Fact]
    public async Task CreateAsync_ReplacesTheFunctionOfATriggerCreatedWithoutTheOption()
    {
        await using Setup setup = await SetUpAsync(WriteBackMode.Async, newStoreLock: true, markNewStore: false);
        await setup.LegacyInsertAsync(1, "Ada L");
        Assert.NotNull(await setup.Repository.GetAsync("1"));
        PostgreSqlForwardSyncTriggerOptions options = setup.Trigger;
        options.NewStoreTable = setup.NewTable;

        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));

        await DataSource.ExecuteAsync(
            $"UPDATE \"{setup.Legacy}\" SET full_name = 'Ada King', version = 2 WHERE id = 1"
        );
        Assert.True(await setup.StaleAsync("1"));
        Assert.Equal(("Ada", "King", 2), Names(await setup.Repository.GetAsync("1")));
    }

    [Theory]
    [InlineData(PostgreSqlKeyType.Integer, "integer")]
    [InlineData(PostgreSqlKeyType.Uuid, "uuid")]
    [InlineData(PostgreSqlKeyType.Text, "text")]
    public async Task TheTriggersUpdate_FindsTheNewRowByItsPrimaryKey(PostgreSqlKeyType keyType, string sqlType)
    {
        string newTable = TestDatabase.UniqueTable("new");
        await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, new() { TableName = newTable });
        string script = PostgreSqlForwardSyncTrigger.CreateScript(
            new()
            {
                LegacyTable = "legacy",
                Migration = Migration,
                NewStoreTable = newTable,
            }
        );

        // The function's statement, with the legacy row's key as a parameter of the key column's type.
        string update = script
            .Split('\n')
            .Select(line => line.Trim())
            .First(line => line.StartsWith("UPDATE ", StringComparison.Ordinal))
            .TrimEnd(';')
            .Replace("OLD.\"id\"", $"$1::{sqlType}", StringComparison.Ordinal);
        object key = keyType switch
        {
            PostgreSqlKeyType.Integer => 1,
            PostgreSqlKeyType.Uuid => Guid.NewGuid(),
            _ => "a",
        };
        string plan = await DataSource.ExplainAsync(update, new NpgsqlParameter { Value = key });

        Assert.Contains($"Index Scan using {newTable}_pkey", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
    }

    private static (string?, string?, int?) Names(Customer? customer) =>
        (customer?.FirstName, customer?.LastName, customer?.Version);

    /// <summary>
    /// A legacy table with the capture trigger, marking the new store's table unless told not to; a migration over
    /// both with forward sync on, the outbox in the same database, and the new store's own locks or advisory locks.
    /// </summary>
    private async Task<Setup> SetUpAsync(WriteBackMode mode, bool newStoreLock, bool markNewStore = true)
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        string newTable = TestDatabase.UniqueTable("new");
        await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, new() { TableName = newTable });
        PostgreSqlOutboxOptions outboxOptions = OutboxTables.Options();
        await PostgreSqlOutboxSchema.CreateAsync(DataSource, outboxOptions);
        var trigger = new PostgreSqlForwardSyncTriggerOptions
        {
            LegacyTable = legacy,
            Migration = Migration,
            OutboxTable = outboxOptions.TableName,
            NewStoreTable = markNewStore ? newTable : null,
        };
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, trigger));

        var services = new ServiceCollection();
        var migration = services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.WriteBackMode = mode;
                o.ForwardSync = true;
            })
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o => (o.TableName, o.KeyType) = (legacy, PostgreSqlKeyType.Integer), DataSource)
            .UsePostgreSqlOutbox(o => o.TableName = outboxOptions.TableName)
            .UsePostgreSqlNewStore(o => o.TableName = newTable, DataSource)
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        _ = newStoreLock ? migration.UseNewStoreLock() : migration.UsePostgreSqlAdvisoryLock(dataSource: DataSource);
        ServiceProvider provider = services.BuildServiceProvider();
        return new Setup(
            DataSource,
            provider,
            legacy,
            newTable,
            trigger,
            new PostgreSqlOutbox(DataSource, outboxOptions)
        );
    }

    private sealed class Setup(
        NpgsqlDataSource dataSource,
        ServiceProvider provider,
        string legacy,
        string newTable,
        PostgreSqlForwardSyncTriggerOptions trigger,
        PostgreSqlOutbox outbox
    ) : IAsyncDisposable
    {
        public string Legacy { get; } = legacy;

        public string NewTable { get; } = newTable;

        public PostgreSqlForwardSyncTriggerOptions Trigger { get; } = trigger;

        public PostgreSqlOutbox Outbox { get; } = outbox;

        public IMigratingRepository<LegacyCustomer, Customer> Repository =>
            provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        public IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher =>
            provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

        public Task<int> LegacyInsertAsync(int id, string fullName) =>
            dataSource.ExecuteAsync(
                $"INSERT INTO \"{Legacy}\" (id, full_name, version) VALUES ($1, $2, 1)",
                id,
                fullName
            );

        /// <summary>The new row's stale column, or null when the new store holds no row for the id.</summary>
        public Task<bool?> StaleAsync(string id) =>
            dataSource.ScalarAsync<bool?>($"SELECT stale FROM \"{NewTable}\" WHERE id = $1", id);

        public Task<int> NewVersionAsync(string id) =>
            dataSource.ScalarAsync<int>($"SELECT (payload->>'version')::int FROM \"{NewTable}\" WHERE id = $1", id);

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }
}
