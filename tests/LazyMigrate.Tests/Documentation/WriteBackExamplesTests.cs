using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/write-back.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class WriteBackExamplesTests
{
    [Fact]
    public async Task SyncWriteBack_CopiesSavesAndDeletesIntoTheOldStore()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        var newStore = new InMemoryNewStore<Customer>();
        var lockProvider = new InMemoryMigrationLockProvider();

        services.AddMigrationMapper<CustomerMapper>(); // implements IMigrationMapper and IReverseMigrationMapper
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseLock(lockProvider);

        await using ServiceProvider provider = services.BuildServiceProvider();
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await customers.SaveAsync("c1", new Customer("Ada", "Lovelace", "(555) 010-0001"));
        Assert.Equal(new LegacyCustomer("Ada Lovelace", "(555) 010-0001"), oldStore.Peek("c1")); // mapped back
        Assert.Equal(1, lockProvider.AcquireCount); // under the lock

        await customers.DeleteAsync("c1");
        Assert.Null(oldStore.Peek("c1"));
        Assert.Equal(NewStoreState.Deleted, newStore.Peek("c1").State);
    }

    [Fact]
    public async Task ReverseMerger_KeepsAFieldOnlyTheOldModelHas()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyContact>();
        var newStore = new InMemoryNewStore<Contact>();
        var lockProvider = new InMemoryMigrationLockProvider();
        oldStore.Seed("c1", new LegacyContact("Ada", "ada@example.com", "VIP since 1990"));

        services
            .AddLazyMigration<LegacyContact, Contact>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(legacy => new Contact(legacy.Name, legacy.Email))
            // current: the old store's record as it is now, read under the entity's lock; null if it has none
            .UseReverseMerger(
                (contact, current) => new LegacyContact(contact.Name, contact.Email, current?.Notes ?? "")
            )
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseLock(lockProvider);

        await using ServiceProvider provider = services.BuildServiceProvider();
        var contacts = provider.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();
        await contacts.SaveAsync("c1", new Contact("Ada Lovelace", "ada@example.com"));
        await contacts.SaveAsync("c2", new Contact("Grace Hopper", "grace@example.com"));
        Assert.Equal(new LegacyContact("Ada Lovelace", "ada@example.com", "VIP since 1990"), oldStore.Peek("c1"));
        Assert.Equal(new LegacyContact("Grace Hopper", "grace@example.com", ""), oldStore.Peek("c2")); // was none
    }

    [Fact]
    public async Task AsyncWriteBack_ReturnsOnceTheOutboxHasTheItem_TheDispatcherAppliesIt()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        var newStore = new InMemoryNewStore<Customer>();
        var outbox = new InMemoryOutbox(); // in production: UsePostgreSqlOutbox() or UseEntityFrameworkCoreOutbox()

        services.AddMigrationMapper<CustomerMapper>(); // implements IMigrationMapper and IReverseMigrationMapper
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UseOutbox(outbox)
            .ConfigureOutbox(o => o.DispatchOnWrite = false); // here: apply only when asked, below
        services.AddLazyMigrationDispatcher(); // in a host: every migration's dispatcher, on every instance

        await using ServiceProvider provider = services.BuildServiceProvider();
        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await customers.SaveAsync("c1", new Customer("Ada", "Lovelace", "(555) 010-0001"));
        Assert.Null(oldStore.Peek("c1")); // not yet: the save returned once the item was recorded
        Assert.Single(outbox.Snapshot());

        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await dispatcher.DrainAsync(); // what the hosted dispatcher does on its own
        Assert.Equal(new LegacyCustomer("Ada Lovelace", "(555) 010-0001"), oldStore.Peek("c1"));
        Assert.Empty(outbox.Snapshot());
    }

    [Fact]
    public async Task DeadLetters_AreListedReplayedAndPurged()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        bool broken = true;
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(c => broken ? throw new InvalidOperationException("no") : new CustomerMapper().MapBack(c))
            .UseOldStore(oldStore)
            .UseInMemoryNewStore()
            .UseInMemoryOutbox()
            .ConfigureOutbox(o => o.MaxAttempts = 1);
        await using ServiceProvider provider = services.BuildServiceProvider();
        await provider
            .GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>()
            .SaveAsync("42", new Customer("Ada", "Lovelace", "(555) 010-0001"));

        IMigrationDispatcher<LegacyCustomer, Customer> dispatcher = provider.GetRequiredService<
            IMigrationDispatcher<LegacyCustomer, Customer>
        >();
        await dispatcher.DrainAsync();
        IReadOnlyList<OutboxItem> dead = await dispatcher.GetDeadLettersAsync(); // with LastError and Attempts
        Assert.Contains("no", Assert.Single(dead).LastError, StringComparison.Ordinal);
        broken = false;

        await dispatcher.ReplayDeadLettersAsync(); // all, or ReplayDeadLettersAsync(["42"]) for some entities
        await dispatcher.PurgeDeadLettersAsync(["43"]); // on purpose only

        await dispatcher.DrainAsync();
        Assert.Equal(new LegacyCustomer("Ada Lovelace", "(555) 010-0001"), oldStore.Peek("42"));
        Assert.Empty(await dispatcher.GetDeadLettersAsync());
    }
}
