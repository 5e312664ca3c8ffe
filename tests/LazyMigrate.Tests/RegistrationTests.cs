using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Tests;

/// <summary>DI registration and options validation at start-up.</summary>
public sealed class RegistrationTests
{
    private static ILazyMigrationBuilder<OldCustomer, NewCustomer> Complete(
        IServiceCollection services,
        Action<LazyMigrationOptions>? configure = null
    ) =>
        services
            .AddLazyMigration<OldCustomer, NewCustomer>(MigrationHarness.MigrationName, configure)
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();

    private static OptionsValidationException ValidationFailure(IServiceCollection services)
    {
        using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
        );
    }

    /// <summary>
    /// A migration with no lock configured, over a new store that can lock itself and counts its locks.
    /// </summary>
    private static ILazyMigrationBuilder<OldCustomer, NewCustomer> OverALockingNewStore(
        IServiceCollection services,
        out TestKit.CountingNewStore<NewCustomer> store,
        Action<LazyMigrationOptions>? configure = null
    )
    {
        store = new TestKit.CountingNewStore<NewCustomer>(new InMemoryNewStore<NewCustomer>());
        return services
            .AddLazyMigration<OldCustomer, NewCustomer>(MigrationHarness.MigrationName, configure)
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(new InMemoryOldStore<OldCustomer>().Seed("c1", MigrationHarness.Legacy(1)))
            .UseNewStore(store);
    }

    /// <summary>Validates the registration as a host start would, then reads the one seeded customer.</summary>
    private static async Task<NewCustomer?> ReadOneAsync(IServiceCollection services)
    {
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");
    }

    private static async Task<OptionsValidationException> StartUpFailureOverANewStoreThatCannotLockAsync(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null
    )
    {
        var builder = Host.CreateApplicationBuilder();
        var migration = builder
            .Services.AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseNewStore(new HookedNewStore<NewCustomer>(new InMemoryNewStore<NewCustomer>()));
        configure?.Invoke(migration);
        using IHost host = builder.Build();
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    [Fact]
    public void CompleteRegistration_ResolvesOneSingletonRepository()
    {
        var services = new ServiceCollection();
        Complete(services);
        using ServiceProvider provider = services.BuildServiceProvider(
            new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }
        );

        var first = provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>();

        Assert.Same(first, provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>());
    }

    [Fact]
    public void MissingMapperAndStores_FailValidationNamingEach()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<OldCustomer, NewCustomer>();

        var failure = ValidationFailure(services);

        Assert.Contains(failure.Failures, f => f.Contains("UseMapper", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("old store", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("new store", StringComparison.Ordinal));
        Assert.All(
            failure.Failures,
            f => Assert.StartsWith("Migration 'OldCustomer->NewCustomer'", f, StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task WithoutALock_ANewStoreThatLocksItself_TakesTheLocks()
    {
        var services = new ServiceCollection();
        OverALockingNewStore(services, out var store);

        Assert.Equal(MigrationHarness.Mapped(1), await ReadOneAsync(services));
        Assert.Equal(1, store.Locks);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ALockProvider_ForTheMigrationOrTheContainer_WinsOverTheNewStoresOwnLock(bool forTheMigration)
    {
        var locks = new InMemoryMigrationLockProvider();
        var services = new ServiceCollection();
        var migration = OverALockingNewStore(services, out var store);
        if (forTheMigration)
        {
            migration.UseInMemoryLock(locks);
        }
        else
        {
            services.AddSingleton<IMigrationLockProvider>(locks);
        }

        Assert.Equal(MigrationHarness.Mapped(1), await ReadOneAsync(services));
        Assert.Equal(1, locks.AcquireCount);
        Assert.Equal(0, store.Locks);
    }

    [Fact]
    public async Task UseLockOff_TakesNoLock_EvenFromANewStoreThatLocksItself()
    {
        var services = new ServiceCollection();
        OverALockingNewStore(services, out var store, o => o.UseLock = false);

        Assert.Equal(MigrationHarness.Mapped(1), await ReadOneAsync(services));
        Assert.Equal(0, store.Locks);
    }

    [Fact]
    public async Task WithoutALock_ANewStoreThatCannotLockItself_FailsAtHostStartUp_SayingHowToLock()
    {
        string only = Assert.Single((await StartUpFailureOverANewStoreThatCannotLockAsync()).Failures);

        Assert.Contains("HookedNewStore", only, StringComparison.Ordinal);
        Assert.Contains("cannot lock", only, StringComparison.Ordinal);
        Assert.Contains("UseLock", only, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseNewStoreLock_OverANewStoreThatCannotLockItself_FailsAtHostStartUp()
    {
        string only = Assert.Single(
            (await StartUpFailureOverANewStoreThatCannotLockAsync(b => b.UseNewStoreLock())).Failures
        );

        Assert.Contains("HookedNewStore", only, StringComparison.Ordinal);
        Assert.Contains("ILockingNewStore", only, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutALock_ANewStoreThatCannotBeBuilt_FailsAtHostStartUp_WithTheStoresError()
    {
        var failure = await StartUpFailureOverANewStoreThatCannotLockAsync(b =>
            b.UseNewStore(_ => throw new InvalidOperationException("the new store's server is unknown"))
        );

        string only = Assert.Single(failure.Failures);
        Assert.Contains("could not be built: the new store's server is unknown", only, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutALock_ANewStoreThatCannotBeBuilt_NamesTheErrorsTypeAndItsInnerMessages()
    {
        var failure = await StartUpFailureOverANewStoreThatCannotLockAsync(b =>
            b.UseNewStore(_ =>
                throw new InvalidOperationException(
                    "the new store's server is unknown",
                    new TimeoutException("connect timed out")
                )
            )
        );

        string only = Assert.Single(failure.Failures);
        Assert.Contains("InvalidOperationException", only, StringComparison.Ordinal);
        Assert.Contains("TimeoutException: connect timed out", only, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteBackWithoutReverseMapper_FailsValidation()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(m => new NewCustomer(m.FullName, "", m.Email))
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        var failure = ValidationFailure(services);

        Assert.Contains(failure.Failures, f => f.Contains("reverse mapper", StringComparison.Ordinal));
    }

    [Fact]
    public void SyncWriteBackWithoutLock_FailsValidation()
    {
        var services = new ServiceCollection();
        Complete(
                services,
                o =>
                {
                    o.WriteBackMode = WriteBackMode.Sync;
                    o.UseLock = false;
                }
            )
            .UseReverseMapper(new CustomerMapper());

        Assert.Contains(
            ValidationFailure(services).Failures,
            f => f.Contains("WriteBackMode.Sync needs UseLock", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task AsyncWriteBack_WithoutAnOutbox_FailsAtHostStartUp()
    {
        var builder = Host.CreateApplicationBuilder();
        Complete(builder.Services, o => o.WriteBackMode = WriteBackMode.Async).UseReverseMapper(new CustomerMapper());
        using IHost host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(
            failure.Failures,
            f => f.Contains("WriteBackMode.Async needs an outbox", StringComparison.Ordinal)
        );
    }

    [Theory]
    [InlineData(nameof(LazyMigrationOptions.LockTimeout))]
    [InlineData(nameof(LazyMigrationOptions.AttemptTimeout))]
    [InlineData(nameof(LazyMigrationOptions.MaxRetryAttempts))]
    [InlineData(nameof(LazyMigrationOptions.RetryDelay))]
    [InlineData(nameof(LazyMigrationOptions.NegativeCacheDuration))]
    [InlineData(nameof(LazyMigrationOptions.WriteBackMode))]
    public void OutOfRangeOption_FailsValidationNamingIt(string option)
    {
        var services = new ServiceCollection();
        Complete(
            services,
            o =>
            {
                switch (option)
                {
                    case nameof(LazyMigrationOptions.LockTimeout):
                        o.LockTimeout = TimeSpan.FromSeconds(-1);
                        break;
                    case nameof(LazyMigrationOptions.AttemptTimeout):
                        o.AttemptTimeout = TimeSpan.Zero;
                        break;
                    case nameof(LazyMigrationOptions.MaxRetryAttempts):
                        o.MaxRetryAttempts = -1;
                        break;
                    case nameof(LazyMigrationOptions.RetryDelay):
                        o.RetryDelay = TimeSpan.FromDays(-1);
                        break;
                    case nameof(LazyMigrationOptions.NegativeCacheDuration):
                        o.NegativeCacheDuration = TimeSpan.FromSeconds(-5);
                        break;
                    default:
                        o.WriteBackMode = (WriteBackMode)42;
                        break;
                }
            }
        );

        var failure = ValidationFailure(services);

        Assert.Contains(failure.Failures, f => f.Contains(option, StringComparison.Ordinal));
    }

    [Fact]
    public void NegativeCacheWithoutMemoryCache_FailsValidation()
    {
        var services = new ServiceCollection();
        Complete(services, o => o.NegativeCacheDuration = TimeSpan.FromSeconds(1));

        Assert.Contains(
            ValidationFailure(services).Failures,
            f => f.Contains("IMemoryCache", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void WithoutLock_NeedsNoLockProvider()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>(o => o.UseLock = false)
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>());
    }

    [Fact]
    public async Task TwoEntityPairs_InOneContainer_AreIndependent()
    {
        var services = new ServiceCollection();
        var sharedLock = new InMemoryMigrationLockProvider();
        services.AddSingleton<IMigrationLockProvider>(sharedLock);
        var orders = new InMemoryOldStore<OldOrder>().Seed("o1", new OldOrder(12.34m));
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(new InMemoryOldStore<OldCustomer>().Seed("c1", MigrationHarness.Legacy(1)))
            .UseInMemoryNewStore();
        services
            .AddLazyMigration<OldOrder, NewOrder>(o => o.LockTimeout = TimeSpan.FromSeconds(1))
            .UseMapper(o => new NewOrder((long)(o.Total * 100)))
            .UseInMemoryOldStore(orders)
            .UseInMemoryNewStore();
        using ServiceProvider provider = services.BuildServiceProvider();

        var customers = provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>();
        var orderRepository = provider.GetRequiredService<IMigratingRepository<OldOrder, NewOrder>>();

        Assert.Equal(MigrationHarness.Mapped(1), await customers.GetAsync("c1"));
        Assert.Equal(new NewOrder(1234), await orderRepository.GetAsync("o1"));
        Assert.Equal(2, sharedLock.AcquireCount);
        Assert.Equal(
            TimeSpan.FromSeconds(1),
            provider.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>().Get("OldOrder->NewOrder").LockTimeout
        );
        Assert.Equal(
            TimeSpan.FromSeconds(10),
            provider
                .GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>()
                .Get("OldCustomer->NewCustomer")
                .LockTimeout
        );
    }

    [Fact]
    public async Task UseLock_IsKeyedToItsMigration()
    {
        var services = new ServiceCollection();
        var own = new InMemoryMigrationLockProvider();
        var global = new InMemoryMigrationLockProvider();
        services.AddSingleton<IMigrationLockProvider>(global);
        Complete(services)
            .UseLock(own)
            .UseInMemoryOldStore(new InMemoryOldStore<OldCustomer>().Seed("c1", MigrationHarness.Legacy(1)));
        using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");

        Assert.Equal(1, own.AcquireCount);
        Assert.Equal(0, global.AcquireCount);
    }

    [Fact]
    public void AddMigrationMapper_RegistersOneInstanceForBothDirections()
    {
        var services = new ServiceCollection();
        services.AddMigrationMapper<CustomerMapper>();
        using ServiceProvider provider = services.BuildServiceProvider();

        var forward = provider.GetRequiredService<IMigrationMapper<OldCustomer, NewCustomer>>();
        var reverse = provider.GetRequiredService<IReverseMigrationMapper<OldCustomer, NewCustomer>>();

        Assert.IsType<CustomerMapper>(forward);
        Assert.Same(forward, reverse);
    }

    [Fact]
    public void AddMigrationMapper_OfATypeThatMapsNothing_Throws()
    {
        var failure = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddMigrationMapper<string>());

        Assert.Contains("String", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddLazyMigration_RegistersDefaultsOnlyIfAbsent()
    {
        var services = new ServiceCollection();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        services.AddSingleton<TimeProvider>(clock);
        Complete(services);
        Complete(services);

        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
        Assert.Single(
            services,
            d => d.ServiceType == typeof(IMigratingRepository<OldCustomer, NewCustomer>) && !d.IsKeyedService
        );
        Assert.Single(
            services,
            d => d.ServiceType == typeof(IMigratingRepository<OldCustomer, NewCustomer>) && d.IsKeyedService
        );
        Assert.Single(services, d => d.ServiceType == typeof(IOldStore<OldCustomer>));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<LazyMigrationOptions>));
    }

    [Fact]
    public async Task ExplicitName_IsUsedForOptionsLocksAndEvents()
    {
        var services = new ServiceCollection();
        var locks = new InMemoryMigrationLockProvider();
        var events = new List<EntityMigrated<OldCustomer, NewCustomer>>();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>("customers-v2", o => o.LockTimeout = TimeSpan.FromSeconds(3))
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(new InMemoryOldStore<OldCustomer>().Seed("c1", MigrationHarness.Legacy(1)))
            .UseInMemoryNewStore()
            .UseLock(locks)
            .OnMigrated(
                (e, _) =>
                {
                    events.Add(e);
                    return ValueTask.CompletedTask;
                }
            );
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");
        await provider.GetRequiredService<IMigrationDispatcher<OldCustomer, NewCustomer>>().DrainAsync();

        Assert.Equal("customers-v2", Assert.Single(events).MigrationName);
        Assert.Equal(EntityMigratedEventId.For("customers-v2", "c1"), events[0].EventId);
        Assert.Equal(
            TimeSpan.FromSeconds(3),
            provider.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>().Get("customers-v2").LockTimeout
        );
    }

    [Fact]
    public void SamePair_UnderTwoNames_Throws()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<OldCustomer, NewCustomer>("first");

        var failure = Assert.Throws<InvalidOperationException>(() =>
            services.AddLazyMigration<OldCustomer, NewCustomer>("second")
        );

        Assert.Contains("'first'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultName_SpellsOutGenericArguments()
    {
        Assert.Equal(
            "List<OldOrder>->Dictionary<String,NewOrder>",
            MigrationName<List<OldOrder>, Dictionary<string, NewOrder>>.Default
        );
    }
}
