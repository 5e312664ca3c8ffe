using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/forward-sync.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class ForwardSyncExamplesTests
{
    [Fact]
    public async Task AWriteThroughTheOldApi_ReachesTheNewApi_AndTheLaterOfTwoWritesWins()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        oldStore.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));

        services.AddMigrationMapper<CustomerMapper>();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.WriteBackMode = WriteBackMode.Async;
                o.ForwardSync = true; // old-API writes reach the new store
            })
            // current: what the new store holds now; keep what only the new model knows
            .UseMerger((legacy, current) => current with { Phone = legacy.Phone })
            .UseOldStore(oldStore)
            .UseInMemoryNewStore()
            .UseInMemoryOutbox() // UsePostgreSqlOutbox or UseEntityFrameworkCoreOutbox in production
            .UseInMemoryLock();

        await using ServiceProvider provider = services.BuildServiceProvider();
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var oldApiChanges = provider.GetRequiredService<IOldStoreChangeRecorder<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await customers.GetAsync("c1"); // migrated

        // The legacy code writes its own store, then makes the one call that records the change.
        oldStore.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0002"));
        await oldApiChanges.RecordChangeAsync("c1");
        await dispatcher.DrainAsync(); // the hosted dispatcher does this in a service

        Assert.Equal("(555) 010-0002", (await customers.GetAsync("c1"))?.Phone);

        // A new-API save whose write-back is pending, then an old-API write: the old-API write came last, and wins.
        // In RecordWriteAsync the write runs under the entity's lock: a write-back dispatched meanwhile
        // (DispatchOnWrite) lands before it, never between the write and its record (see Limits).
        await customers.SaveAsync("c1", new Customer("Ada", "Lovelace", "(555) 010-0003"));
        await oldApiChanges.RecordWriteAsync(
            "c1",
            _ =>
            {
                oldStore.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0004"));
                return ValueTask.FromResult(true); // it changed the record
            }
        );
        await dispatcher.DrainAsync();

        Assert.Equal("(555) 010-0004", (await customers.GetAsync("c1"))?.Phone);
        Assert.Equal("(555) 010-0004", oldStore.Peek("c1")?.Phone);
    }
}
