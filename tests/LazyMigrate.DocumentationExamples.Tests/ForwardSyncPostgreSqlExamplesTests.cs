using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace LazyMigrate.DocumentationExamples.Tests;

/// <summary>
/// The PostgreSQL example of docs/forward-sync.md, verbatim (the in-memory one is in LazyMigrate.Tests);
/// DocumentationCoverageTests checks that it stays so.
/// </summary>
[Collection("postgres")]
public sealed class ForwardSyncPostgreSqlExamplesTests(PostgresServer server)
{
    [Fact]
    public async Task OnPostgreSql_AnOldApiWriteOfAMigratedCustomer_IsReadThroughTheNewApiAtOnce()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using (NpgsqlDataSource legacy = NpgsqlDataSource.Create(connectionString))
        {
            await ExecuteAsync(
                legacy,
                "CREATE TABLE legacy_customers (id serial PRIMARY KEY, full_name text NOT NULL, phone text); "
                    + "INSERT INTO legacy_customers (full_name, phone) VALUES ('Ada Lovelace', '(555) 010-0001')"
            );
        }

        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddNpgsqlDataSource(connectionString); // from Npgsql.DependencyInjection
        builder.Services.AddMigrationMapper<CustomerMapper>();
        ILazyMigrationBuilder<LegacyCustomer, Customer> migration = builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>(o => o.ForwardSync = true)
            .UsePostgreSqlTableOldStore(o =>
            {
                o.TableName = "legacy_customers"; // the table the old API writes, as it is
                o.KeyColumn = "id";
                o.KeyType = PostgreSqlKeyType.Integer;
            })
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = ("customers", true))
            .UsePostgreSqlOutbox(o => o.CreateSchema = true) // the outbox and its captures table
            .UsePostgreSqlAdvisoryLock();
        builder.Services.AddLazyMigrationDispatcher();

        using IHost host = builder.Build();
        await host.StartAsync(); // CreateSchema: the new store's table and the outbox are created here

        // Once they exist: the triggers on the legacy table, which record every old-API write in its own transaction.
        await PostgreSqlForwardSyncTrigger.CreateAsync(
            host.Services.GetRequiredService<NpgsqlDataSource>(),
            new PostgreSqlForwardSyncTriggerOptions
            {
                Migration = migration.Name, // "LegacyCustomer->Customer", as the outbox's items carry it
                LegacyTable = "legacy_customers",
                KeyColumn = "id", // the old store's KeyColumn
                NewStoreTable = "customers", // the new store's TableName: its row is marked stale, read fresh at once
            }
        );

        var customers = host.Services.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal("(555) 010-0001", (await customers.GetAsync("1"))?.Phone); // migrated
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        await ExecuteAsync(dataSource, "UPDATE legacy_customers SET phone = '(555) 010-0002' WHERE id = 1");
        Assert.Equal("(555) 010-0002", (await customers.GetAsync("1"))?.Phone); // the old API's write, at once
        Assert.Equal("LegacyCustomer->Customer", migration.Name);
        await host.StopAsync();
    }

    /// <summary>A statement of the legacy application's, in plain SQL.</summary>
    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
