using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>A repository wired with <c>UseDistributedLock</c> takes the real lock of each entity it migrates.</summary>
public abstract class UseDistributedLockTests : IAsyncLifetime
{
    private const string Id = "customer-1";

    protected abstract ILockBackend Backend { get; }

    [Theory]
    [InlineData(Registration.Provider)]
    [InlineData(Registration.Factory)]
    [InlineData(Registration.Container)]
    public async Task GetAsync_WaitsForTheRealLockOfTheEntity_ThenMigratesOnce(Registration registration)
    {
        var old = new InMemoryOldStore<LegacyCustomer>().Seed(Id, LegacyCustomer.Create(Id, 1));
        var counting = new CountingNewStore<Customer>(new InMemoryNewStore<Customer>());
        int events = 0;
        var services = new ServiceCollection();
        var builder = services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.LockTimeout = TimeSpan.FromMilliseconds(300);
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
            })
            .UseMapper(new CustomerMapper())
            .UseOldStore(old)
            .UseNewStore(counting)
            .OnMigrated(
                (_, _) =>
                {
                    Interlocked.Increment(ref events);
                    return ValueTask.CompletedTask;
                }
            );
        IDistributedLockProvider provider = await Backend.CreateInstanceAsync();
        _ = registration switch
        {
            Registration.Provider => builder.UseDistributedLock(provider),
            Registration.Factory => builder.UseDistributedLock(_ => provider),
            _ => builder.UseDistributedLock(),
        };
        if (registration == Registration.Container)
        {
            services.AddSingleton(provider);
        }

        await using ServiceProvider instance = services.BuildServiceProvider();
        var repository = instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        IDistributedLockProvider anotherInstance = await Backend.CreateInstanceAsync();

        await using (
            IDistributedSynchronizationHandle? held = await anotherInstance
                .CreateLock(MigrationLockKeys.For(builder.Name, Id))
                // A bound, not zero: DistributedLock.Redis's zero-timeout try once returned null on this free key
                // under load.
                .TryAcquireAsync(TimeSpan.FromSeconds(30))
        )
        {
            Assert.NotNull(held);
            await Assert.ThrowsAsync<MigrationLockTimeoutException>(async () => await repository.GetAsync(Id));
            Assert.Equal(0, counting.InsertedCount);
        }

        Customer? migrated = await repository.GetAsync(Id);

        Assert.Equal(1, migrated!.Version);
        Assert.Equal(1, counting.InsertedCount);
        await instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>().DrainAsync();
        Assert.Equal(1, Volatile.Read(ref events));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => Backend.DisposeAsync().AsTask();
}
