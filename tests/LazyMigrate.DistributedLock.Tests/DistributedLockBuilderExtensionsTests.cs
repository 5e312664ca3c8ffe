using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>What <c>UseDistributedLock</c> registers, and what it says when it has nothing to use.</summary>
public sealed class DistributedLockBuilderExtensionsTests
{
    [Fact]
    public void UseDistributedLock_WithoutAProviderInTheContainer_SaysWhatToRegister()
    {
        var services = new ServiceCollection();
        Configure(services).UseDistributedLock();
        using ServiceProvider instance = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() =>
            instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>()
        );

        Assert.Contains(nameof(IDistributedLockProvider), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseDistributedLock_WithAFactoryThatReturnsNull_SaysSo()
    {
        var services = new ServiceCollection();
        Configure(services).UseDistributedLock(_ => null!);
        using ServiceProvider instance = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() =>
            instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>()
        );

        Assert.Contains("factory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseDistributedLock_LocksOnlyItsOwnMigration()
    {
        var recording = new RecordingLockProvider();
        var services = new ServiceCollection();
        var builder = Configure(services).UseDistributedLock(recording);
        await using ServiceProvider instance = services.BuildServiceProvider();

        await instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("customer-1");

        Assert.Equal(MigrationLockKeys.For(builder.Name, "customer-1"), Assert.Single(recording.Calls).Name);
        Assert.Null(instance.GetService<IMigrationLockProvider>());
    }

    [Fact]
    public void UseDistributedLock_WithNullArguments_Throws()
    {
        var builder = Configure(new ServiceCollection());

        Assert.Throws<ArgumentNullException>(() => builder.UseDistributedLock((IDistributedLockProvider)null!));
        Assert.Throws<ArgumentNullException>(() =>
            builder.UseDistributedLock((Func<IServiceProvider, IDistributedLockProvider>)null!)
        );
    }

    private static ILazyMigrationBuilder<LegacyCustomer, Customer> Configure(IServiceCollection services) =>
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(
                new InMemoryOldStore<LegacyCustomer>().Seed("customer-1", LegacyCustomer.Create("customer-1", 1))
            )
            .UseInMemoryNewStore();
}
