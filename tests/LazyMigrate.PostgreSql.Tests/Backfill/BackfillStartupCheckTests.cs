using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>Missing backfill checkpoint tables fail the host's start, not the backfill's first batch.</summary>
[Collection("postgres")]
public sealed class BackfillStartupCheckTests(PostgresServer server)
{
    [Fact]
    public async Task StartAsync_CheckpointTablesMissing_FailsNamingTheMigrationTheTableAndTheCause()
    {
        string missing = TestDatabase.UniqueTable("missing");
        using IHost host = Host(o => o.TableName = missing);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("backfill checkpoint store", message, StringComparison.Ordinal);
        Assert.Contains($"\"public\".\"{missing}\"", message, StringComparison.Ordinal);
        Assert.Contains("42P01", message, StringComparison.Ordinal); // undefined_table
        Assert.Contains(nameof(PostgreSqlBackfillSchema), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_CreateSchema_CreatesBothTablesAtStart_AndTheBackfillRuns()
    {
        string table = TestDatabase.UniqueTable("ckpt");
        string quarantine = TestDatabase.UniqueTable("quar");
        using IHost host = Host(o => (o.TableName, o.QuarantineTableName, o.CreateSchema) = (table, quarantine, true));

        await host.StartAsync();

        Assert.Equal(
            2L,
            await server.DataSource.ScalarAsync<long>(
                "SELECT count(*) FROM pg_tables WHERE tablename = ANY($1)",
                (object)new[] { table, quarantine }
            )
        );
        var runner = host.Services.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
        Assert.True((await runner.RunAsync()).IsComplete);
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_CheckOnStartOff_StartsWithTheTablesMissing()
    {
        using IHost host = Host(o => (o.TableName, o.CheckOnStart) = (TestDatabase.UniqueTable("missing"), false));

        await host.StartAsync();

        var runner = host.Services.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
        await Assert.ThrowsAnyAsync<Exception>(() => runner.RunAsync().AsTask());
        await host.StopAsync();
    }

    private IHost Host(Action<PostgreSqlBackfillCheckpointOptions> configure)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        var old = new InMemoryOldStore<LegacyCustomer>();
        old.Seed("a", LegacyCustomer.Create("a", 1));
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(old)
            .UseInMemoryNewStore(new InMemoryNewStore<Customer>())
            .UseInMemoryLock()
            .UsePostgreSqlBackfillCheckpoints(configure, server.DataSource);
        return builder.Build();
    }
}
