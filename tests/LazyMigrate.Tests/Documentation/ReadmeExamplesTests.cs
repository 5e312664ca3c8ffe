using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Account = LazyMigrate.Tests.Support.Crm.Account;
using Billing = LazyMigrate.Tests.Support.Billing;
using Crm = LazyMigrate.Tests.Support.Crm;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of README.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class ReadmeExamplesTests : ContainerExample
{
    [Fact]
    public async Task Introduction_MigratesOnFirstRead_WithWriteBack()
    {
        var oldStore = new InMemoryOldStore<LegacyCustomer>().Seed(
            "customer-000001",
            new LegacyCustomer("Ada Lovelace", "(555) 010-0001")
        );
        var newStore = new InMemoryNewStore<Customer>();

        services.AddMigrationMapper<CustomerMapper>(); // IMigrationMapper + IReverseMigrationMapper
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseInMemoryOldStore(oldStore)
            .UseInMemoryNewStore(newStore)
            .UseInMemoryLock();
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Customer? customer = await customers.GetAsync("customer-000001"); // migrated now if the new store lacks it

        Assert.Equal(new Customer("Ada", "Lovelace", "(555) 010-0001"), customer);
        Assert.Equal(1, newStore.InsertCount);
        await customers.SaveAsync("customer-000001", customer! with { LastName = "King" });
        Assert.Equal("Ada King", oldStore.Peek("customer-000001")?.FullName); // the write-back the example turns on
    }

    [Fact]
    public async Task SeveralPairs_KeepTheirOwnOptions_AndShareTheContainersLock()
    {
        var sharedLock = new InMemoryMigrationLockProvider();
        var customers = new InMemoryOldStore<LegacyCustomer>().Seed("c1", new LegacyCustomer("Ada Lovelace", "1"));
        var newCustomers = new InMemoryNewStore<Customer>();
        var orders = new InMemoryOldStore<LegacyOrder>().Seed("o1", new LegacyOrder(12.34m));
        var newOrders = new InMemoryNewStore<Order>();

        services.AddSingleton<IMigrationLockProvider>(sharedLock); // used by every migration without a lock of its own
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(customers)
            .UseNewStore(newCustomers);
        services
            .AddLazyMigration<LegacyOrder, Order>(o => o.LockTimeout = TimeSpan.FromSeconds(1))
            .UseMapper(o => new Order((long)(o.Total * 100)))
            .UseOldStore(orders)
            .UseNewStore(newOrders);

        Assert.NotNull(
            await provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("c1")
        );
        Assert.Equal(
            new Order(1234),
            await provider.GetRequiredService<IMigratingRepository<LegacyOrder, Order>>().GetAsync("o1")
        );
        Assert.Equal(2, sharedLock.AcquireCount);
        var options = provider.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>();
        Assert.Equal(TimeSpan.FromSeconds(1), options.Get("LegacyOrder->Order").LockTimeout);
        Assert.Equal(new LazyMigrationOptions().LockTimeout, options.Get("LegacyCustomer->Customer").LockTimeout);
    }

    [Fact]
    public async Task GetAsync_MissingInNewStore_MigratesFromOldStore()
    {
        var old = new InMemoryOldStore<LegacyCustomer>().Seed(
            "c1",
            new LegacyCustomer("Ada Lovelace", "(555) 010-0001")
        );
        var neu = new InMemoryNewStore<Customer>();
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(old)
            .UseInMemoryNewStore(neu)
            .UseInMemoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        Customer? customer = await customers.GetAsync("c1");

        Assert.Equal("Lovelace", customer?.LastName);
        Assert.Equal((1, 1), (old.ReadCount, neu.InsertCount));
        Assert.Equal(NewStoreState.Found, neu.Peek("c1").State);
    }

    [Fact]
    public async Task TwoPairsWithAlikeTypeNames_OneNamed_LiveSideBySide()
    {
        services
            .AddLazyMigration<Billing.Customer, Billing.Account>()
            .UseMapper(customer => new Billing.Account(customer.Name))
            .UseInMemoryOldStore(new InMemoryOldStore<Billing.Customer>().Seed("c1", new("Billing")))
            .UseInMemoryNewStore();

        services
            .AddLazyMigration<Crm.Customer, Crm.Account>("crm-customer->account")
            .UseMapper(customer => new Crm.Account(customer.Name));

        // The same migration again, by its name: its stores.
        services
            .AddLazyMigration<Crm.Customer, Crm.Account>("crm-customer->account")
            .UseInMemoryOldStore(new InMemoryOldStore<Crm.Customer>().Seed("c1", new("Crm")))
            .UseInMemoryNewStore();
        var crm = provider.GetRequiredService<IMigratingRepository<Crm.Customer, Crm.Account>>();
        var billing = provider.GetRequiredService<IMigratingRepository<Billing.Customer, Billing.Account>>();
        Assert.Equal(new Crm.Account("Crm"), await crm.GetAsync("c1"));
        Assert.Equal(new Billing.Account("Billing"), await billing.GetAsync("c1"));
    }

    [Fact]
    public async Task ABatchWithAFailedId_IsCaught_KeepingEveryOtherId()
    {
        var oldStore = new InMemoryOldStore<Crm.Customer>()
            .Seed("a1", new("Ada"))
            .Seed("a2", new(""))
            .Seed("a3", new("Grace"));
        services
            .AddLazyMigration<Crm.Customer, Account>()
            .UseMapper(customer =>
                customer.Name.Length > 0 ? new Account(customer.Name) : throw new FormatException("no name")
            )
            .UseInMemoryOldStore(oldStore)
            .UseInMemoryNewStore();
        var repository = provider.GetRequiredService<IMigratingRepository<Crm.Customer, Account>>();
        var logger = new FakeLogger();
        string[] ids = ["a1", "a2", "a3"];
        CancellationToken cancellationToken = CancellationToken.None;
        IReadOnlyDictionary<string, Account> accounts;

        try
        {
            accounts = await repository.GetManyAsync(ids, cancellationToken);
        }
        catch (MigrationBatchException<Account> failure)
        {
            accounts = failure.Found; // every id but the failed ones
            foreach (var (id, error) in failure.Failures)
            {
                logger.LogWarning(error, "Account {AccountId} could not be read", id);
            }
        }

        Assert.Equal(["a1", "a3"], accounts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Account a2 could not be read", Assert.Single(logger.Collector.GetSnapshot()).Message);
    }
}
