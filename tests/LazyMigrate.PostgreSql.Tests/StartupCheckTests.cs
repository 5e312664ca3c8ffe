using System.Net;
using System.Net.Sockets;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A store whose table is missing, or whose server does not answer, fails the host's start, not the first read.
/// </summary>
[Collection("postgres")]
public sealed class StartupCheckTests(PostgresServer server)
{
    [Fact]
    public async Task StartAsync_NewStoreTableMissing_FailsNamingTheMigrationTheStoreAndTheCause()
    {
        string missing = TestDatabase.UniqueTable("missing");
        using IHost host = Host(server.DataSource, o => o.TableName = missing);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("NewStore", message, StringComparison.Ordinal);
        Assert.Contains($"\"public\".\"{missing}\"", message, StringComparison.Ordinal);
        Assert.Contains("42P01", message, StringComparison.Ordinal); // undefined_table
    }

    [Fact]
    public async Task StartAsync_ServerUnreachable_FailsNamingTheMigrationTheStoreAndTheCause()
    {
        await using NpgsqlDataSource unreachable = NpgsqlDataSource.Create(
            $"Host=127.0.0.1;Port={ClosedPort()};Timeout=5"
        );
        using IHost host = Host(unreachable, o => o.TableName = "customer");

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("OldStore", message, StringComparison.Ordinal); // the first store checked
        Assert.Contains(ExceptionChain.Causes(error), e => e is NpgsqlException);
    }

    [Fact]
    public async Task StartAsync_CheckOnStartOff_StartsWithTheTableMissing_AndTheFirstReadFails()
    {
        using IHost host = Host(
            server.DataSource,
            o => (o.TableName, o.CheckOnStart) = (TestDatabase.UniqueTable("missing"), false)
        );

        await host.StartAsync();

        var repository = host.Services.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await Assert.ThrowsAsync<MigrationStoreException>(() => repository.GetAsync("a").AsTask());
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_TablesThere_Starts()
    {
        string table = TestDatabase.UniqueTable();
        await server.DataSource.ExecuteAsync(PostgreSqlDocumentStoreSchema.CreateScript("public", table));
        using IHost host = Host(server.DataSource, o => o.TableName = table);

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_CreateSchema_CreatesTheTableAtStart()
    {
        string table = TestDatabase.UniqueTable();
        using IHost host = Host(server.DataSource, o => (o.TableName, o.CreateSchema) = (table, true));

        await host.StartAsync();

        Assert.Equal(
            1L,
            await server.DataSource.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = $1", table)
        );
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_NewStoreReplacedAfterwards_DoesNotCheckThePostgreSqlStoreItNoLongerUses()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UsePostgreSqlNewStore(o => o.TableName = TestDatabase.UniqueTable("missing"), server.DataSource)
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        using IHost host = builder.Build();

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public void UsePostgreSqlNewStore_CalledTwice_RegistersOneCheckPerStore()
    {
        using IHost host = Host(server.DataSource, o => o.TableName = "customer", twice: true);

        // The old store's and the new store's.
        Assert.Equal(2, host.Services.GetServices<IPostgreSqlStartupCheck>().Count());
    }

    /// <summary>
    /// A host over an old store whose table is created here and a new store configured by <paramref name="newStore"/>,
    /// with a PostgreSQL outbox created here when <paramref name="outbox"/>.
    /// </summary>
    internal static IHost Host(
        NpgsqlDataSource dataSource,
        Action<PostgreSqlDocumentStoreOptions> newStore,
        bool twice = false,
        bool outbox = false
    )
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        string oldTable = TestDatabase.UniqueTable("old");
        var migration = builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true), dataSource)
            .UsePostgreSqlNewStore(newStore, dataSource)
            .UseInMemoryLock();
        if (twice)
        {
            migration.UsePostgreSqlNewStore(newStore, dataSource);
        }

        if (outbox)
        {
            string outboxTable = TestDatabase.UniqueTable("outbox");
            migration.UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (outboxTable, true));
        }

        return builder.Build();
    }

    /// <summary>A local port nothing listens on: taken from the system, then released.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
