using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// The <c>UseEntityFrameworkCore...Store</c> extensions: a repository over EF Core stores from DI, validated at
/// start-up.
/// </summary>
public sealed class BuilderExtensionsTests : IAsyncLifetime
{
    private readonly SqliteFiles _files = new(writeAheadLog: true);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _files.DisposeAsync().AsTask();

    [Fact]
    public async Task Repository_OverEntityFrameworkCoreStores_MigratesSavesAndDeletes()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        var services = new ServiceCollection();
        services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(db.ConnectionString));
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((StoreDb d) => d.LegacyCustomers, c => c.Id)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseInMemoryLock();
        await using ServiceProvider provider = BuildAndValidate(services);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var old = new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            db,
            d => d.LegacyCustomers,
            c => c.Id
        );
        await old.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        await old.UpsertAsync("b", LegacyCustomer.Create("b", 2));

        Assert.Equal("First1", (await repository.GetAsync("a"))!.FirstName);
        await repository.SaveAsync("a", Customer.Create("a", 5));
        await repository.DeleteAsync("b");

        Assert.Equal("First5 Last5", (await old.FindAsync("a"))!.FullName);
        Assert.Null(await old.FindAsync("b"));
        Assert.Equal(MigrationOutcome.Deleted, await repository.MigrateAsync("b"));
    }

    [Fact]
    public void Validation_AtStartUp_NamesTheMissingFactoryAndTheBadOption()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((StoreDb d) => d.LegacyCustomers, c => c.Id, o => o.ScanPageSize = 0)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseInMemoryLock();

        IEnumerable<string> failures = ValidationFailures(() => BuildAndValidate(services));

        Assert.Contains(
            failures,
            f =>
                f.Contains("EF Core old store", StringComparison.Ordinal)
                && f.Contains("ScanPageSize", StringComparison.Ordinal)
        );
        Assert.Contains(
            failures,
            f =>
                f.Contains("EF Core new store", StringComparison.Ordinal)
                && f.Contains("AddDbContextFactory<StoreDb>", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void Validation_AtStartUp_ChecksTheModel()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<UnfitDb>(o => o.UseSqlite("Data Source=never-opened.db"));
        services
            .AddLazyMigration<Order, Order>()
            .UseMapper(o => o)
            .UseEntityFrameworkCoreOldStore((UnfitDb d) => d.Orders, o => o.Number)
            .UseEntityFrameworkCoreNewStore((UnfitDb d) => d.Orders, o => o.Number)
            .UseInMemoryLock();

        IEnumerable<string> failures = ValidationFailures(() => BuildAndValidate(services));

        Assert.Contains(
            failures,
            f =>
                f.Contains("new store", StringComparison.Ordinal)
                && f.Contains("AddLazyMigrateEntries", StringComparison.Ordinal)
        );
        Assert.Contains(
            failures,
            f =>
                f.Contains("old store", StringComparison.Ordinal)
                && f.Contains("ValueGeneratedNever", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void Validation_AtStartUp_OfStoresKeyedByTheModel_NamesACompositeKeyAndAKeyOfAnotherType()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<OtherKeysDb>(o => o.UseSqlite("Data Source=never-opened.db"));
        services
            .AddLazyMigration<Order, ShadowKeys.Customer>()
            .UseMapper(o => new ShadowKeys.Customer("", "", ""))
            .UseEntityFrameworkCoreOldStore<Order, ShadowKeys.Customer, OtherKeysDb, long>(d => d.Orders)
            .UseEntityFrameworkCoreNewStore<Order, ShadowKeys.Customer, OtherKeysDb, string>(
                d => d.Customers,
                o => o.ScanPageSize = 10
            )
            .UseInMemoryLock();

        IEnumerable<string> failures = ValidationFailures(() => BuildAndValidate(services));

        Assert.Contains(
            failures,
            f =>
                f.Contains("old store", StringComparison.Ordinal)
                && f.Contains("Order.Number is a Int32 in OtherKeysDb", StringComparison.Ordinal)
        );
        Assert.Contains(
            failures,
            f =>
                f.Contains("new store", StringComparison.Ordinal)
                && f.Contains("the primary key is (Region, Number)", StringComparison.Ordinal)
        );
    }

    /// <summary>
    /// The failures start-up validation reports: one options instance failing, or several (an aggregate).
    /// </summary>
    private static IEnumerable<string> ValidationFailures(Action start)
    {
        Exception thrown = Assert.ThrowsAny<Exception>(start);
        IEnumerable<Exception> all = thrown is AggregateException aggregate ? aggregate.InnerExceptions : [thrown];
        return all.Select(e => Assert.IsType<OptionsValidationException>(e)).SelectMany(e => e.Failures).ToList();
    }

    private static ServiceProvider BuildAndValidate(IServiceCollection services)
    {
        ServiceProvider provider = services.BuildServiceProvider(
            new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }
        );
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return provider;
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }
}
