using LazyMigrate.Backfill;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>
/// The example of docs/postgresql.md's section on backfill checkpoints, verbatim (DocumentationCoverageTests checks
/// that it stays so), over a legacy table in a database of its own.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlBackfillExamplesTests(PostgresServer server) : ContainerExample
{
    [Fact]
    public async Task Usage_BackfillsTheLegacyTable_AndKeepsItsCheckpointInPostgreSql()
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        services.AddSingleton(dataSource); // disposed with the container
        await dataSource.ExecuteAsync(
            "CREATE TABLE legacy_customers (id serial PRIMARY KEY, full_name text NOT NULL, phone text NOT NULL)"
        );
        await dataSource.ExecuteAsync(
            "INSERT INTO legacy_customers (full_name, phone) "
                + "SELECT 'Customer' || n || ' Example', '(555) 010-0000' FROM generate_series(1, 2500) AS n"
        );

        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o =>
            {
                o.TableName = "legacy_customers";
                o.KeyType = PostgreSqlKeyType.Integer;
            })
            .UsePostgreSqlNewStore(o => o.CreateSchema = true)
            .UsePostgreSqlBackfillCheckpoints(o => o.CreateSchema = true); // or the DDL in postgresql.sql
        services.AddLazyMigrationBackfill(); // in a host: every instance runs it, one at a time holds the lease

        var backfill = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
        BackfillSummary summary = await backfill.RunAsync();
        Assert.True(summary.IsComplete);

        Assert.Equal(2500, summary.Counts.Migrated);
        Assert.Equal(2500, await dataSource.ScalarAsync<long>("SELECT count(*) FROM customer WHERE NOT deleted"));
        Assert.Equal(
            "2500",
            await dataSource.ScalarAsync<string>("SELECT cursor_id FROM lazymigrate_backfill WHERE is_complete")
        );
    }
}
