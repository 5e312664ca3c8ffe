using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Tests;

/// <summary>
/// The names every instance of a service must compute alike, pinned as literals: a change to how LazyMigrate derives
/// them would make instances of two versions lock different keys and announce the same migration under two event ids.
/// </summary>
public sealed class WireFormatTests
{
    [Fact]
    public void DefaultMigrationName_IsTheTwoTypeNames_WithGenericArgumentsSpelledOut()
    {
        var services = new ServiceCollection();

        string plain = services.AddLazyMigration<OldCustomer, NewCustomer>().Name;
        string generic = services.AddLazyMigration<List<OldOrder>, NewCustomer>().Name;

        Assert.Equal("OldCustomer->NewCustomer", plain);
        Assert.Equal("List<OldOrder>->NewCustomer", generic);
    }

    [Fact]
    public void LockKey_IsThePrefixTheMigrationNameAndTheId()
    {
        Assert.Equal(
            "lazymigrate:LegacyCustomer->Customer:c1",
            MigrationLockKeys.For("LegacyCustomer->Customer", "c1")
        );
    }

    [Theory]
    [InlineData("LegacyCustomer->Customer", "c1", "3b27a7d1-a358-8e66-b965-87948044e332")]
    [InlineData("crm-customer->account", "c-000042", "c89d4eff-69db-8427-84f6-56f86cd32ae2")]
    public void EventId_IsAVersion8UuidOfTheMigrationNameAndTheId(string migration, string id, string expected)
    {
        Assert.Equal(Guid.Parse(expected), EntityMigratedEventId.For(migration, id));
    }

    [Fact]
    public async Task AMigratedEntitysEvent_CarriesThePinnedEventId()
    {
        var events = new List<EntityMigrated<OldCustomer, NewCustomer>>();
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>("LegacyCustomer->Customer")
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(new InMemoryOldStore<OldCustomer>().Seed("c1", new("Ada Lovelace", "ada@example.com")))
            .UseInMemoryNewStore()
            .OnMigrated(
                (migrated, _) =>
                {
                    events.Add(migrated);
                    return ValueTask.CompletedTask;
                }
            );
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>().GetAsync("c1");
        await provider.GetRequiredService<IMigrationDispatcher<OldCustomer, NewCustomer>>().DrainAsync();

        Assert.Equal(Guid.Parse("3b27a7d1-a358-8e66-b965-87948044e332"), Assert.Single(events).EventId);
    }
}
