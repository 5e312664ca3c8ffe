using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// Each table that <c>CreateSchema</c> creates is logged once, saying what it is: the old store's, the new store's
/// (created by the start-up check, before the store's first call), the outbox, the backfill's.
/// </summary>
[Collection("postgres")]
public sealed class SchemaCreationLogTests(PostgresServer server)
{
    [Fact]
    public async Task StartAsync_WithCreateSchema_LogsEachTableItCreated_AsWhatItIs()
    {
        string oldTable = TestDatabase.UniqueTable("old");
        string newTable = TestDatabase.UniqueTable("new");
        string outbox = TestDatabase.UniqueTable("outbox");
        string checkpoints = TestDatabase.UniqueTable("checkpoints");
        string quarantine = TestDatabase.UniqueTable("quarantine");
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFakeLogging();
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true), server.DataSource)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true), server.DataSource)
            .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (outbox, true), server.DataSource)
            .UsePostgreSqlBackfillCheckpoints(
                o => (o.TableName, o.QuarantineTableName, o.CreateSchema) = (checkpoints, quarantine, true),
                server.DataSource
            )
            .UseInMemoryLock();
        using IHost host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();

        Assert.Equal(
            [
                (
                    "BackfillTablesCreated",
                    $"Created the LazyMigrate backfill checkpoint table \"public\".\"{checkpoints}\" and its "
                        + $"quarantine table \"public\".\"{quarantine}\""
                ),
                (
                    "NewStoreTableCreated",
                    $"Created the LazyMigrate new store table \"public\".\"{newTable}\", or added the columns it lacked"
                ),
                ("OldStoreTableCreated", $"Created the LazyMigrate old store table \"public\".\"{oldTable}\""),
                (
                    "OutboxCreated",
                    $"Created the LazyMigrate outbox \"public\".\"{outbox}\" and its captures table "
                        + $"\"public\".\"{outbox}_captures\""
                ),
            ],
            host.Services.GetFakeLogCollector()
                .GetSnapshot()
                .Where(r => r.Message.StartsWith("Created the LazyMigrate", StringComparison.Ordinal))
                .Select(r => (r.Id.Name ?? "", r.Message))
                .Order()
        );
    }
}
