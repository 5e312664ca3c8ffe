using LazyMigrate.DistributedLock;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Medallion.Threading;
using Medallion.Threading.Postgres;
using Medallion.Threading.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LazyMigrate.DocumentationExamples.Tests;

/// <summary>
/// The examples of docs/distributed-lock.md, verbatim; DocumentationCoverageTests checks that they stay so.
/// </summary>
public abstract class DistributedLockExample : ContainerExample
{
    protected InMemoryOldStore<LegacyCustomer> oldStore { get; } =
        new InMemoryOldStore<LegacyCustomer>().Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));

    protected InMemoryNewStore<Customer> newStore { get; } = new();

    /// <summary>Migrates c1 through the example's registration, which must have taken a DistributedLock lock.</summary>
    protected async Task AssertMigratesUnderTheLockAsync()
    {
        Assert.IsType<DistributedLockMigrationLockProvider>(
            provider.GetRequiredKeyedService<IMigrationLockProvider>("LegacyCustomer->Customer")
        );
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal(MigrationOutcome.Migrated, await customers.MigrateAsync("c1"));
        Assert.Equal(1, newStore.InsertCount);
    }
}

[Collection("postgres")]
public sealed class DistributedLockPostgresExamplesTests(PostgresServer server) : DistributedLockExample
{
    private string connectionString => server.ConnectionString;

    [Fact]
    public async Task AProviderYouBuild()
    {
        // 1. A provider you build.
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseDistributedLock(new PostgresDistributedSynchronizationProvider(connectionString));

        await AssertMigratesUnderTheLockAsync();
    }

    [Fact]
    public async Task AProviderBuiltFromTheContainer()
    {
        services.AddSingleton<IConfiguration>(
            new ConfigurationBuilder().AddInMemoryCollection([new("ConnectionStrings:locks", connectionString)]).Build()
        );

        // 2. A provider built from the container (once: a singleton).
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseDistributedLock(services => new PostgresDistributedSynchronizationProvider(
                services.GetRequiredService<IConfiguration>().GetConnectionString("locks")!
            ));

        await AssertMigratesUnderTheLockAsync();
    }

    [Fact]
    public async Task TheContainersOwnProvider()
    {
        // 3. The container's own IDistributedLockProvider, for applications that register one anyway.
        services.AddSingleton<IDistributedLockProvider>(
            new PostgresDistributedSynchronizationProvider(connectionString)
        );
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseDistributedLock();

        await AssertMigratesUnderTheLockAsync();
    }
}

[Collection("redis")]
public sealed class DistributedLockRedisExamplesTests(RedisServer server) : DistributedLockExample
{
    [Fact]
    public async Task Redis()
    {
        string redisConnectionString = server.ConnectionString;

        var redis = await ConnectionMultiplexer.ConnectAsync(redisConnectionString); // "redis-host:6379"
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseDistributedLock(new RedisDistributedSynchronizationProvider(redis.GetDatabase()));

        await AssertMigratesUnderTheLockAsync();
        await redis.DisposeAsync();
    }
}
