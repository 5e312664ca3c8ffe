using System.Collections.Concurrent;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Tests;

/// <summary>
/// Write-back through a reverse merger (docs/write-back.md, "Keeping fields only the old model has"): the merger gets
/// the old store's record as it is under the entity's lock, so a field only the old model has survives every save.
/// </summary>
public sealed class WriteBackMergerTests
{
    private const string Id = "c1";

    private static readonly string LockKey = MigrationLockKeys.For("LegacyContact->Contact", Id);

    private static readonly LegacyContact Seeded = new("Ada", "ada@example.com", "VIP since 1990");

    [Fact]
    public async Task SaveAsync_WithAMerger_KeepsTheLegacyOnlyFieldThroughSaves()
    {
        var stores = new ContactStores(Seeded);
        await using var provider = stores.Build(b => b.UseReverseMerger(KeepNotes));
        var contacts = Repository(provider);

        Assert.Equal(new Contact("Ada", "ada@example.com"), await contacts.GetAsync(Id));
        await contacts.SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));
        await contacts.SaveAsync(Id, new Contact("Ada Lovelace", "ada@lovelace.example"));

        Assert.Equal(new LegacyContact("Ada Lovelace", "ada@lovelace.example", "VIP since 1990"), stores.Old.Peek(Id));
        Assert.Equal(new Contact("Ada Lovelace", "ada@lovelace.example"), stores.New.Peek(Id).Value);
    }

    [Fact]
    public async Task SaveAsync_ANewEntity_AndOneRecreatedAfterADelete_TheMergerGetsNull()
    {
        var stores = new ContactStores(Seeded);
        var seen = new ConcurrentQueue<(string Name, LegacyContact? Current)>();
        await using var provider = stores.Build(b =>
            b.UseReverseMerger(
                (contact, current) =>
                {
                    seen.Enqueue((contact.Name, current));
                    return KeepNotes(contact, current);
                }
            )
        );
        var contacts = Repository(provider);

        await contacts.SaveAsync("brand-new", new Contact("Grace", "grace@example.com"));
        await contacts.DeleteAsync(Id);
        await contacts.SaveAsync(Id, new Contact("Ada again", "ada@example.com"));

        Assert.Equal(new (string, LegacyContact?)[] { ("Grace", null), ("Ada again", null) }, seen.ToArray());
        Assert.Equal(new LegacyContact("Grace", "grace@example.com", NoNotes), stores.Old.Peek("brand-new"));
        Assert.Equal(new LegacyContact("Ada again", "ada@example.com", NoNotes), stores.Old.Peek(Id));
    }

    [Fact]
    public async Task SaveAsync_TheMergerGetsTheOldRecordAsItIsUnderTheLock_AWriteOfTheLegacyAppBetweenSavesIncluded()
    {
        var stores = new ContactStores(Seeded);
        await using var provider = stores.Build(b => b.UseReverseMerger(KeepNotes));
        var contacts = Repository(provider);
        await contacts.SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));
        IMigrationLockHandle? held = await stores.Lock.TryAcquireAsync(LockKey, TimeSpan.Zero);

        Task saving = contacts.SaveAsync(Id, new Contact("Countess", "ada@example.com")).AsTask();
        Assert.Equal(1, stores.Lock.WaiterCount(LockKey)); // waiting for the lock: nothing read or written yet
        await stores.Old.UpsertAsync(Id, new LegacyContact("Ada Lovelace", "ada@example.com", "moved to London"));
        await held!.DisposeAsync();
        await saving.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(new LegacyContact("Countess", "ada@example.com", "moved to London"), stores.Old.Peek(Id));
    }

    [Fact]
    public async Task SaveAsync_AThrowingMerger_WritesNothingToEitherStore_AndTheErrorNamesTheId()
    {
        var stores = new ContactStores(Seeded);
        await using var provider = stores.Build(b =>
            b.UseReverseMerger((_, _) => throw new InvalidOperationException("notes are locked"))
        );
        var contacts = Repository(provider);
        Contact migrated = (await contacts.GetAsync(Id))!;

        var failure = await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await contacts.SaveAsync(Id, new Contact("Changed", "changed@example.com"))
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Contains("reverse merger threw InvalidOperationException", failure.Message, StringComparison.Ordinal);
        Assert.Equal(migrated, stores.New.Peek(Id).Value);
        Assert.Equal(Seeded, stores.Old.Peek(Id));
        Assert.Equal(0, stores.Old.WriteCount);
    }

    [Fact]
    public async Task UseReverseMapper_AfterUseReverseMerger_ReplacesIt_AndTheOtherWayRound()
    {
        var mapperLast = new ContactStores(Seeded);
        await using (
            var provider = mapperLast.Build(b =>
                b.UseReverseMerger(KeepNotes).UseReverseMapper(c => new LegacyContact(c.Name, c.Email, "mapped"))
            )
        )
        {
            await Repository(provider).SaveAsync(Id, new Contact("Ada", "ada@example.com"));
        }

        var mergerLast = new ContactStores(Seeded);
        await using (
            var provider = mergerLast.Build(b =>
                b.UseReverseMapper(c => new LegacyContact(c.Name, c.Email, "mapped")).UseReverseMerger(KeepNotes)
            )
        )
        {
            await Repository(provider).SaveAsync(Id, new Contact("Ada", "ada@example.com"));
        }

        Assert.Equal("mapped", mapperLast.Old.Peek(Id)!.Notes);
        Assert.Equal("VIP since 1990", mergerLast.Old.Peek(Id)!.Notes);
    }

    [Fact]
    public void SyncWriteBack_WithNeitherAReverseMapperNorAMerger_FailsValidationNamingBoth()
    {
        var stores = new ContactStores();
        using var provider = stores.Build(_ => { });

        var failure = Assert.Throws<OptionsValidationException>(() => Repository(provider));

        Assert.Contains(
            "needs a reverse mapper or a reverse merger for WriteBackMode.Sync: call UseReverseMapper or "
                + "UseReverseMerger.",
            Assert.Single(failure.Failures),
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task SyncWriteBack_WithAMergerAndNoReverseMapper_StartsAndWritesBack()
    {
        var stores = new ContactStores();
        await using var provider = stores.Build(b => b.UseReverseMerger(KeepNotes));

        await Repository(provider).SaveAsync(Id, new Contact("Ada", "ada@example.com"));

        Assert.Equal(new LegacyContact("Ada", "ada@example.com", NoNotes), stores.Old.Peek(Id));
    }

    [Fact]
    public async Task AddMigrationMapper_OfAClassThatMerges_IsTheMigrationsMapperAndMerger()
    {
        var stores = new ContactStores(Seeded);
        await using var provider = stores.Build(b => b.Services.AddMigrationMapper<ContactMapper>(), mapper: false);
        var contacts = Repository(provider);

        await contacts.SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));

        Assert.Same(
            provider.GetRequiredService<IMigrationMapper<LegacyContact, Contact>>(),
            provider.GetRequiredService<IReverseMigrationMerger<LegacyContact, Contact>>()
        );
        Assert.Equal(new LegacyContact("Ada Lovelace", "ada@example.com", "VIP since 1990"), stores.Old.Peek(Id));
    }

    [Fact]
    public async Task AddMigrationMapper_OfAReverseMapperAfterAMerger_ReplacesTheMerger()
    {
        var stores = new ContactStores(Seeded);
        await using var provider = stores.Build(
            b => b.Services.AddMigrationMapper<ContactMapper>().AddMigrationMapper<NotesDroppingReverseMapper>(),
            mapper: false
        );

        await Repository(provider).SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));

        Assert.Null(provider.GetService<IReverseMigrationMerger<LegacyContact, Contact>>());
        Assert.Equal(new LegacyContact("Ada Lovelace", "ada@example.com", "dropped"), stores.Old.Peek(Id));
    }

    [Fact]
    public async Task SaveAsync_WithAReverseMapper_ReadsNothingFromTheOldStore_WithAMerger_OnceEach()
    {
        var mapped = new ContactStores();
        var mappedOld = new CountingOldStore<LegacyContact>(mapped.Old);
        await using (
            var provider = mapped.Build(b =>
                b.UseOldStore(mappedOld).UseReverseMapper(c => new LegacyContact(c.Name, c.Email, NoNotes))
            )
        )
        {
            await Repository(provider).SaveAsync(Id, new Contact("Ada", "ada@example.com"));
            await Repository(provider).SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));
        }

        var merged = new ContactStores();
        var mergedOld = new CountingOldStore<LegacyContact>(merged.Old);
        await using (var provider = merged.Build(b => b.UseOldStore(mergedOld).UseReverseMerger(KeepNotes)))
        {
            await Repository(provider).SaveAsync(Id, new Contact("Ada", "ada@example.com"));
            await Repository(provider).SaveAsync(Id, new Contact("Ada Lovelace", "ada@example.com"));
        }

        Assert.Equal(0, mappedOld.ReadsFor(Id));
        Assert.Equal(2, mergedOld.ReadsFor(Id));
    }

    [Fact]
    public async Task SyncWriteBack_LockLostBetweenItsTwoWrites_TheRepairMergesWithAFreshOldRead()
    {
        var stores = new ContactStores(Seeded);
        var held = new FirstUpsertHeldOldStore<LegacyContact>(stores.Old);
        var seen = new ConcurrentQueue<LegacyContact?>();
        LegacyContact Merge(Contact contact, LegacyContact? current)
        {
            seen.Enqueue(current);
            return KeepNotes(contact, current);
        }

        await using var first = stores.Build(b => b.UseOldStore(held).UseReverseMerger(Merge));
        await using var second = stores.Build(b => b.UseReverseMerger(KeepNotes));

        Task saving = Repository(first).SaveAsync(Id, new Contact("Stale", "stale@example.com")).AsTask();
        await held.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)); // in the new store, lock held
        Assert.True(stores.Lock.Expire(LockKey));
        await Repository(second).SaveAsync(Id, new Contact("Latest", "latest@example.com"));
        held.Gate.Release(); // the stale record lands after the latest one
        await saving.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(new LegacyContact("Latest", "latest@example.com", "VIP since 1990"), stores.Old.Peek(Id));
        Assert.Equal(
            new LegacyContact?[] { Seeded, new("Stale", "stale@example.com", "VIP since 1990") },
            seen.ToArray()
        );
    }

    private const string NoNotes = "(none)";

    /// <summary>The merger of most tests: the new entity's fields, the current record's notes.</summary>
    private static LegacyContact KeepNotes(Contact contact, LegacyContact? current) =>
        new(contact.Name, contact.Email, current?.Notes ?? NoNotes);

    private static IMigratingRepository<LegacyContact, Contact> Repository(IServiceProvider provider) =>
        provider.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();

    /// <summary>The stores and lock that the instances of one test share.</summary>
    private sealed class ContactStores
    {
        public ContactStores(LegacyContact? seeded = null)
        {
            if (seeded is not null)
            {
                Old.Seed(Id, seeded);
            }
        }

        public InMemoryOldStore<LegacyContact> Old { get; } = new();

        public InMemoryNewStore<Contact> New { get; } = new();

        public InMemoryMigrationLockProvider Lock { get; } = new();

        /// <summary>
        /// One instance with sync write-back over the shared stores; <paramref name="configure"/> chooses the reverse
        /// mapping. Without <paramref name="mapper"/>, the forward mapper is left to <paramref name="configure"/> too.
        /// </summary>
        public ServiceProvider Build(
            Action<ILazyMigrationBuilder<LegacyContact, Contact>> configure,
            bool mapper = true
        )
        {
            var services = new ServiceCollection();
            var builder = services
                .AddLazyMigration<LegacyContact, Contact>(o => o.WriteBackMode = WriteBackMode.Sync)
                .UseInMemoryOldStore(Old)
                .UseInMemoryNewStore(New)
                .UseInMemoryLock(Lock);
            if (mapper)
            {
                builder.UseMapper(old => new Contact(old.Name, old.Email));
            }

            configure(builder);
            return services.BuildServiceProvider();
        }
    }

    /// <summary>Maps contacts forward and merges them back, keeping the notes.</summary>
    private sealed class ContactMapper
        : IMigrationMapper<LegacyContact, Contact>,
            IReverseMigrationMerger<LegacyContact, Contact>
    {
        public Contact Map(LegacyContact entity) => new(entity.Name, entity.Email);

        public LegacyContact MergeBack(Contact entity, LegacyContact? current) => KeepNotes(entity, current);
    }

    /// <summary>A reverse mapper, which cannot know the notes.</summary>
    private sealed class NotesDroppingReverseMapper : IReverseMigrationMapper<LegacyContact, Contact>
    {
        public LegacyContact MapBack(Contact entity) => new(entity.Name, entity.Email, "dropped");
    }
}

/// <summary>A legacy record with a field the new model lacks: <see cref="Notes"/>.</summary>
public sealed record LegacyContact(string Name, string Email, string Notes);

/// <summary>The new model of <see cref="LegacyContact"/>: no notes.</summary>
public sealed record Contact(string Name, string Email);
