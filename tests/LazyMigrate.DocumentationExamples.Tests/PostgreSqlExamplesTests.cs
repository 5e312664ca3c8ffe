using LazyMigrate.InMemory;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.DocumentationExamples.Tests;

/// <summary>
/// The examples of docs/postgresql.md, verbatim; DocumentationCoverageTests checks that they stay so.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlExamplesTests(PostgresServer server) : ContainerExample
{
    [Fact]
    public async Task Usage_MigratesFromAnExistingTableIntoOneCreatedIfMissing()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using (NpgsqlDataSource setup = NpgsqlDataSource.Create(connectionString))
        {
            await new PostgreSqlOldStore<LegacyCustomer>(
                setup,
                new() { TableName = "customers_v1", CreateSchema = true }
            ).UpsertAsync("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));
        }

        services.AddNpgsqlDataSource(connectionString); // from Npgsql.DependencyInjection

        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = "customers_v1") // existing rows, in LazyMigrate's document layout
            .UsePostgreSqlNewStore(o => o.CreateSchema = true); // table "public"."customer", created if missing

        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal(new Customer("Ada", "Lovelace", "(555) 010-0001"), await customers.GetAsync("c1"));
        var newStore = Assert.IsType<PostgreSqlNewStore<Customer>>(
            provider.GetRequiredKeyedService<INewStore<Customer>>("LegacyCustomer->Customer")
        );
        Assert.Equal("\"public\".\"customer\"", newStore.TableName);
    }

    [Fact]
    public void AGivenDataSource_NamesAnotherSchema()
    {
        using NpgsqlDataSource legacyDataSource = NpgsqlDataSource.Create(server.ConnectionString);

        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.Schema = "legacy", dataSource: legacyDataSource)
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        var oldStore = Assert.IsType<PostgreSqlOldStore<LegacyCustomer>>(
            provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer")
        );
        Assert.Equal("\"legacy\".\"legacy_customer\"", oldStore.TableName);
    }

    [Fact]
    public async Task UseNewStoreLock_MigratesUnderTheNewStoresOwnLock()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        await dataSource
            .CreateCommand(PostgreSqlDocumentStoreSchema.CreateScript("public", "customers_v1"))
            .ExecuteNonQueryAsync();
        await dataSource
            .CreateCommand(PostgreSqlDocumentStoreSchema.CreateScript("public", "customer"))
            .ExecuteNonQueryAsync();
        await new PostgreSqlOldStore<LegacyCustomer>(dataSource, new() { TableName = "customers_v1" }).UpsertAsync(
            "c1",
            new LegacyCustomer("Ada Lovelace", "(555) 010-0001")
        );
        services.AddSingleton(dataSource);

        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = "customers_v1")
            .UsePostgreSqlNewStore()
            .UseNewStoreLock(); // the default without a lock provider; instead of UsePostgreSqlAdvisoryLock()

        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal(MigrationOutcome.Migrated, await customers.MigrateAsync("c1"));
        await using var rows = dataSource.CreateCommand(
            "SELECT count(*) FROM customer WHERE id = 'c1' AND NOT deleted"
        );
        Assert.Equal(1L, await rows.ExecuteScalarAsync());
    }

    [Fact]
    public async Task ForwardSyncTrigger_RecordsEveryOldApiWriteOfTheLegacyTable()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        await PostgreSqlOutboxSchema.CreateAsync(dataSource);
        await CreateLegacyTableAsync(dataSource);

        await PostgreSqlForwardSyncTrigger.CreateAsync(
            dataSource,
            new()
            {
                LegacyTable = "customers_v1", // the table the old API writes
                KeyColumn = "id", // its key, as text, is the entity id
                Migration = "LegacyCustomer->Customer", // the migration's name
            }
        );
        string script = PostgreSqlForwardSyncTrigger.CreateScript(
            new() { LegacyTable = "customers_v1", Migration = "LegacyCustomer->Customer" }
        ); // the same DDL, for a DBA to run

        await using (
            NpgsqlCommand write = dataSource.CreateCommand("INSERT INTO customers_v1 VALUES (1, 'Ada Lovelace')")
        )
        {
            await write.ExecuteNonQueryAsync();
        }

        var outbox = new PostgreSqlOutbox(dataSource, new());
        Assert.Single(await outbox.FindAsync("LegacyCustomer->Customer", ["1"]));
        Assert.Contains("CREATE TRIGGER", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardSyncTrigger_MarksTheNewStoresRowStale()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        await PostgreSqlOutboxSchema.CreateAsync(dataSource);
        await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(dataSource);
        await CreateLegacyTableAsync(dataSource);

        await PostgreSqlForwardSyncTrigger.CreateAsync(
            dataSource,
            new()
            {
                LegacyTable = "customers_v1",
                Migration = "LegacyCustomer->Customer",
                NewStoreTable = "customer", // the new store's table (NewStoreSchema: "public"), in the same database
            }
        );

        var newStore = new PostgreSqlNewStore<Customer>(dataSource);
        await newStore.UpsertAsync("1", new Customer("Ada", "Lovelace", "(555) 010-0001"));
        await using (
            NpgsqlCommand write = dataSource.CreateCommand(
                "INSERT INTO customers_v1 VALUES (1, 'Ada King'), (2, 'Grace Hopper') "
                    + "ON CONFLICT (id) DO UPDATE SET full_name = EXCLUDED.full_name"
            )
        )
        {
            await write.ExecuteNonQueryAsync();
        }

        await using (NpgsqlCommand update = dataSource.CreateCommand("UPDATE customers_v1 SET full_name = 'Ada K'"))
        {
            await update.ExecuteNonQueryAsync();
        }

        Assert.True((await newStore.FindAsync("1")).IsStale);
        Assert.Equal(NewStoreState.Missing, (await newStore.FindAsync("2")).State);
    }

    /// <summary>The legacy table of the forward sync examples, as the legacy team created it.</summary>
    private static async Task CreateLegacyTableAsync(NpgsqlDataSource dataSource)
    {
        await using NpgsqlCommand legacy = dataSource.CreateCommand(
            "CREATE TABLE customers_v1 (id integer PRIMARY KEY, full_name text)"
        );
        await legacy.ExecuteNonQueryAsync();
    }
}
