using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using BillingAccount = LazyMigrate.Tests.Support.Billing.Account;
using BillingCustomer = LazyMigrate.Tests.Support.Billing.Customer;
using CrmAccount = LazyMigrate.Tests.Support.Crm.Account;
using CrmCustomer = LazyMigrate.Tests.Support.Crm.Customer;

namespace LazyMigrate.Tests;

/// <summary>One registration per migration: a name no two pairs share, and every part keyed by that name.</summary>
public sealed class PerMigrationRegistrationTests
{
    private static readonly ServiceProviderOptions Strict = new() { ValidateOnBuild = true, ValidateScopes = true };

    private static string Full(string supportType) => $"LazyMigrate.Tests.Support.{supportType}";

    private static InMemoryOldStore<OldCustomer> OldStoreOf(string fullName) =>
        new InMemoryOldStore<OldCustomer>().Seed("c1", new OldCustomer(fullName, "someone@example.com"));

    [Fact]
    public void TwoPairsWithTheSameDefaultName_AreRefused_NamingBothPairsAndHowToNameOne()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<BillingCustomer, BillingAccount>();

        var failure = Assert.Throws<InvalidOperationException>(() =>
            services.AddLazyMigration<CrmCustomer, CrmAccount>()
        );

        Assert.Contains("'Customer->Account'", failure.Message, StringComparison.Ordinal);
        Assert.Contains(
            Full("Billing.Customer") + " -> " + Full("Billing.Account"),
            failure.Message,
            StringComparison.Ordinal
        );
        Assert.Contains(Full("Crm.Customer") + " -> " + Full("Crm.Account"), failure.Message, StringComparison.Ordinal);
        Assert.Contains(
            "services.AddLazyMigration<TOld, TNew>(\"name\", ...)",
            failure.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void AnExplicitNameTakenByAnotherPair_IsRefused()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<OldCustomer, NewCustomer>("customers");

        var failure = Assert.Throws<InvalidOperationException>(() =>
            services.AddLazyMigration<OldOrder, NewOrder>("customers")
        );

        Assert.Contains(Full("OldCustomer") + " -> " + Full("NewCustomer"), failure.Message, StringComparison.Ordinal);
        Assert.Contains(Full("OldOrder") + " -> " + Full("NewOrder"), failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoPairsWithTheSameTypeNames_EachNamed_MigrateApart()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<BillingCustomer, BillingAccount>("billing")
            .UseMapper(c => new BillingAccount(c.Name))
            .UseInMemoryOldStore(new InMemoryOldStore<BillingCustomer>().Seed("c1", new("Ada")))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        services
            .AddLazyMigration<CrmCustomer, CrmAccount>("crm", o => o.LockTimeout = TimeSpan.FromSeconds(2))
            .UseMapper(c => new CrmAccount(c.Name))
            .UseInMemoryOldStore(new InMemoryOldStore<CrmCustomer>().Seed("c1", new("Grace")))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        var billing = provider.GetRequiredService<IMigratingRepository<BillingCustomer, BillingAccount>>();
        var crm = provider.GetRequiredService<IMigratingRepository<CrmCustomer, CrmAccount>>();
        Assert.Equal(new("Ada"), await billing.GetAsync("c1"));
        Assert.Equal(new("Grace"), await crm.GetAsync("c1"));
        var options = provider.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>();
        Assert.Equal(TimeSpan.FromSeconds(10), options.Get("billing").LockTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Get("crm").LockTimeout);
    }

    [Fact]
    public async Task TwoMigrationsSharingAnOldType_EachReadTheirOwnOldStore()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(OldStoreOf("Ada Lovelace"))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        services
            .AddLazyMigration<OldCustomer, CustomerCard>()
            .UseMapper(c => new CustomerCard(c.FullName))
            .UseInMemoryOldStore(OldStoreOf("Grace Hopper"))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        NewCustomer? customer = await provider
            .GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
            .GetAsync("c1");
        CustomerCard? card = await provider
            .GetRequiredService<IMigratingRepository<OldCustomer, CustomerCard>>()
            .GetAsync("c1");

        Assert.Equal(new NewCustomer("Ada", "Lovelace", "someone@example.com"), customer);
        Assert.Equal(new CustomerCard("Grace Hopper"), card);
    }

    [Fact]
    public async Task TwoMigrationsSharingANewType_EachWriteTheirOwnNewStore()
    {
        var customers = new InMemoryNewStore<NewCustomer>();
        var fromCards = new InMemoryNewStore<NewCustomer>();
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(OldStoreOf("Ada Lovelace"))
            .UseInMemoryNewStore(customers)
            .UseInMemoryLock();
        services
            .AddLazyMigration<CustomerCard, NewCustomer>()
            .UseMapper(c => new NewCustomer(c.Label, "", ""))
            .UseInMemoryOldStore(new InMemoryOldStore<CustomerCard>().Seed("c1", new CustomerCard("Grace")))
            .UseInMemoryNewStore(fromCards)
            .UseInMemoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");
        await provider.GetRequiredService<IMigratingRepository<CustomerCard, NewCustomer>>().GetAsync("c1");

        Assert.Equal("Ada", customers.Peek("c1").Value!.FirstName);
        Assert.Equal("Grace", fromCards.Peek("c1").Value!.FirstName);
    }

    [Fact]
    public void AMigrationLackingAPartRegisteredOnlyForAnother_FailsValidationNamingIt()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        services
            .AddLazyMigration<OldCustomer, CustomerCard>()
            .UseMapper(c => new CustomerCard(c.FullName))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredService<IMigratingRepository<OldCustomer, CustomerCard>>()
        );

        string only = Assert.Single(failure.Failures);
        Assert.StartsWith("Migration 'OldCustomer->CustomerCard': needs an old store", only, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRepository_ResolvesKeyedByTheMigrationName_AndUnkeyed_AsOneInstance()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>("customers")
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        using ServiceProvider provider = services.BuildServiceProvider(Strict);

        var keyed = provider.GetRequiredKeyedService<IMigratingRepository<OldCustomer, NewCustomer>>("customers");

        Assert.Same(keyed, provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>());
        var isKeyed = provider.GetRequiredService<IServiceProviderIsKeyedService>();
        Assert.True(isKeyed.IsKeyedService(typeof(IOldStore<OldCustomer>), "customers"));
        Assert.True(isKeyed.IsKeyedService(typeof(INewStore<NewCustomer>), "customers"));
        Assert.True(isKeyed.IsKeyedService(typeof(IMigrationMapper<OldCustomer, NewCustomer>), "customers"));
        Assert.Null(provider.GetService<IOldStore<OldCustomer>>());
    }

    [Fact]
    public async Task AMigrationsOwnMapper_WinsOverAddMigrationMapper_RegisteredAfterIt()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(c => new NewCustomer("own", "mapper", c.Email))
            .UseInMemoryOldStore(OldStoreOf("Ada Lovelace"))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        services.AddMigrationMapper<CustomerMapper>();
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        NewCustomer? migrated = await provider
            .GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
            .GetAsync("c1");

        Assert.Equal("own", migrated!.FirstName);
    }

    [Fact]
    public async Task AddMigrationMapper_MapsForAMigrationWithoutItsOwnMapper()
    {
        var services = new ServiceCollection();
        services.AddMigrationMapper<CustomerMapper>();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseInMemoryOldStore(OldStoreOf("Ada Lovelace"))
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        NewCustomer? migrated = await provider
            .GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
            .GetAsync("c1");

        Assert.Equal("Lovelace", migrated!.LastName);
    }

    [Fact]
    public async Task HandlersRegisteredDirectly_AreCalledBesideTheMigrationsOwn()
    {
        var seen = new List<string>();
        var services = new ServiceCollection();
        services.AddSingleton<IEntityMigratedHandler<OldCustomer, NewCustomer>>(
            new RecordingHandler("container", seen)
        );
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(OldStoreOf("Ada Lovelace"))
            .UseInMemoryNewStore()
            .UseInMemoryLock()
            .AddHandler(_ => new RecordingHandler("own", seen));
        await using ServiceProvider provider = services.BuildServiceProvider(Strict);

        await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");
        await provider.GetRequiredService<IMigrationDispatcher<OldCustomer, NewCustomer>>().DrainAsync();

        Assert.Equal(["container", "own"], seen.Order(StringComparer.Ordinal));
        Assert.True(
            provider
                .GetRequiredService<IServiceProviderIsKeyedService>()
                .IsKeyedService(
                    typeof(IEntityMigratedHandler<OldCustomer, NewCustomer>),
                    MigrationHarness.MigrationName
                )
        );
    }

    private sealed class RecordingHandler(string name, List<string> seen)
        : IEntityMigratedHandler<OldCustomer, NewCustomer>
    {
        public ValueTask HandleAsync(
            EntityMigrated<OldCustomer, NewCustomer> migrated,
            CancellationToken cancellationToken
        )
        {
            lock (seen)
            {
                seen.Add(name);
            }

            return ValueTask.CompletedTask;
        }
    }
}
