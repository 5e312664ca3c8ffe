using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// A store whose tables are missing, or whose database cannot be opened, fails the host's start, not the first read.
/// </summary>
public sealed class StartupCheckTests : IAsyncLifetime
{
    private readonly SqliteFiles _files = new(writeAheadLog: false);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _files.DisposeAsync().AsTask();

    [Fact]
    public async Task StartAsync_SqliteFileMissingItsTables_FailsNamingTheMigrationTheStoreAndTheCause()
    {
        string empty = await _files.NewConnectionStringAsync(); // a file with no table: SQLite creates it on open
        using IHost host = Host(empty);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("old store", message, StringComparison.Ordinal); // the first store checked
        Assert.Contains("no such table", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_EntriesTableMissing_FailsNamingTheNewStore()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            await context.Database.ExecuteSqlRawAsync("DROP TABLE LazyMigrateEntries");
        }

        using IHost host = Host(db.ConnectionString);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("new store", message, StringComparison.Ordinal);
        Assert.Contains("LazyMigrateEntries", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_DatabaseCannotBeOpened_Fails()
    {
        string nowhere = $"Data Source={Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}", "x.db")}";
        using IHost host = Host(nowhere);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("'LegacyCustomer->Customer'", ExceptionChain.Messages(error), StringComparison.Ordinal);
        Assert.Contains("unable to open database file", ExceptionChain.Messages(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TablesThere_Starts()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        using IHost host = Host(db.ConnectionString);

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_CheckOnStartOff_StartsWithTheTablesMissing()
    {
        using IHost host = Host(await _files.NewConnectionStringAsync(), checkOnStart: false);

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_StoresReplacedAfterwards_DoesNotCheckTheEfCoreStoresTheMigrationNoLongerUses()
    {
        using IHost host = Host(
            await _files.NewConnectionStringAsync(),
            then: m => m.UseInMemoryOldStore().UseInMemoryNewStore()
        );

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task UseEntityFrameworkCoreNewStore_CalledTwice_RegistersOneCheckPerStore()
    {
        using IHost host = Host(
            await _files.NewConnectionStringAsync(),
            then: m => m.UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
        );

        Assert.Equal(2, host.Services.GetServices<IStoreStartupCheck>().Count()); // the old store's and the new store's
    }

    private static IHost Host(
        string connectionString,
        bool checkOnStart = true,
        Action<ILazyMigrationBuilder<LegacyCustomer, Customer>>? then = null
    )
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder.Services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(connectionString));
        var migration = builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore(
                (StoreDb d) => d.LegacyCustomers,
                c => c.Id,
                o => o.CheckOnStart = checkOnStart
            )
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id, o => o.CheckOnStart = checkOnStart)
            .UseInMemoryLock();
        then?.Invoke(migration);
        return builder.Build();
    }
}
