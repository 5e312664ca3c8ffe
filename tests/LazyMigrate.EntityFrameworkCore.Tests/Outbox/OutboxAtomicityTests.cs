using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LazyMigrate.EntityFrameworkCore.Tests.Outbox;

/// <summary>
/// <see cref="EntityFrameworkCoreOutboxNewStore{TContext, TEntity, TKey}"/>: each write and its intent commit together
/// or not at all. A failure is injected into the <c>SaveChanges</c> that writes the entity (or, for a delete, the
/// item): the transaction rolls back whole, leaving neither the entity change nor the outbox row.
/// </summary>
public abstract class OutboxAtomicity(TestDatabase database) : IAsyncLifetime
{
    private const string Migration = "LegacyCustomer->Customer";

    private readonly FailingSaves _failing = new();
    private ContextFactory<StoreDb>? _db;

    public async Task InitializeAsync() => _db = await database.CreateAsync();

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task UpsertAndRecord_WritesTheEntityAndCoalescesTheIntent()
    {
        var (store, outbox) = Create();

        Assert.Equal(1, await store.UpsertAndRecordAsync("a", Customer.Create("a", 1), WriteBack("a")));
        Assert.Equal(2, await store.UpsertAndRecordAsync("a", Customer.Create("a", 2), WriteBack("a")));

        Assert.Equal(2, (await store.FindAsync("a")).Value!.Version);
        OutboxItem item = Assert.Single(await ClaimAllAsync(outbox));
        Assert.Equal(("a", 2L), (item.EntityId, item.Version));
    }

    [Fact]
    public async Task UpsertAndRecord_WhenItsSaveChangesFails_LeavesNeitherTheEntityNorTheItem()
    {
        var (store, outbox) = Create();
        _failing.FailOn = typeof(Customer);

        await Assert.ThrowsAsync<InjectedFailure>(async () =>
            await store.UpsertAndRecordAsync("a", Customer.Create("a", 1), WriteBack("a"))
        );

        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("a")).State);
        Assert.Empty((await outbox.GetStatisticsAsync(Migration)).Pending);
        await using StoreDb db = _db!.CreateDbContext();
        Assert.Empty(await db.Set<LazyMigrateOutboxItem>().ToListAsync());
        Assert.Empty(await db.Entries.ToListAsync()); // the id's claim rolled back too
    }

    [Fact]
    public async Task UpsertAndRecord_OfAPendingItem_WhenItsSaveChangesFails_LeavesTheEntityAndTheVersionAsTheyWere()
    {
        var (store, outbox) = Create();
        await store.UpsertAndRecordAsync("a", Customer.Create("a", 1), WriteBack("a"));
        _failing.FailOn = typeof(Customer);

        await Assert.ThrowsAsync<InjectedFailure>(async () =>
            await store.UpsertAndRecordAsync("a", Customer.Create("a", 2), WriteBack("a"))
        );

        _failing.FailOn = null;
        Assert.Equal(1, (await store.FindAsync("a")).Value!.Version);
        OutboxItem item = Assert.Single(await ClaimAllAsync(outbox));
        Assert.Equal(1, item.Version); // the item's UPDATE rolled back with the entity's
    }

    [Fact]
    public async Task DeleteAndRecord_WhenTheItemsSaveChangesFails_LeavesTheEntity_AndOtherwiseTombstonesWithTheItem()
    {
        var (store, outbox) = Create();
        await store.UpsertAsync("a", Customer.Create("a", 1));
        _failing.FailOn = typeof(LazyMigrateOutboxItem);

        await Assert.ThrowsAsync<InjectedFailure>(async () => await store.DeleteAndRecordAsync("a", WriteBack("a")));

        Assert.Equal(1, (await store.FindAsync("a")).Value!.Version);
        Assert.Empty((await outbox.GetStatisticsAsync(Migration)).Pending);

        _failing.FailOn = null;
        Assert.Equal(1, await store.DeleteAndRecordAsync("a", WriteBack("a")));
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("a")).State);
        Assert.Equal("a", Assert.Single(await ClaimAllAsync(outbox)).EntityId);
    }

    [Fact]
    public async Task InsertManyIfAbsentAndRecord_RecordsTheEventsOfExactlyTheIdsItInserted()
    {
        var (store, outbox) = Create();
        await store.UpsertAsync("held", Customer.Create("held", 9));
        await store.DeleteAsync("tombstoned");

        IReadOnlyCollection<string> inserted = await store.InsertManyIfAbsentAndRecordAsync(
            [
                new("a", Customer.Create("a", 1)),
                new("held", Customer.Create("held", 1)),
                new("b", Customer.Create("b", 1)),
            ],
            new[] { "a", "held", "b", "tombstoned" }.ToDictionary(id => id, Event)
        );

        Assert.Equal(["a", "b"], inserted.Order(StringComparer.Ordinal));
        IReadOnlyList<OutboxItem> events = await ClaimAllAsync(outbox);
        Assert.Equal(["a", "b"], events.Select(i => i.EntityId).Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.Equal(OutboxItemKind.EntityMigrated, e.Kind));
        Assert.All(events, e => Assert.Equal($$"""{"id":"{{e.EntityId}}"}""", e.Payload));
    }

    [Fact]
    public async Task InsertManyIfAbsentAndRecord_WhenItsSaveChangesFails_InsertsNeitherTheEntitiesNorTheEvents()
    {
        var (store, outbox) = Create();
        _failing.FailOn = typeof(Customer);

        await Assert.ThrowsAsync<InjectedFailure>(async () =>
            await store.InsertManyIfAbsentAndRecordAsync(
                [new("a", Customer.Create("a", 1)), new("b", Customer.Create("b", 1))],
                new[] { "a", "b" }.ToDictionary(id => id, Event)
            )
        );

        _failing.FailOn = null;
        Assert.Empty(await store.FindManyAsync(["a", "b"]));
        Assert.Empty((await outbox.GetStatisticsAsync(Migration)).Pending);
        Assert.Equal(
            ["a", "b"],
            await store.InsertManyIfAbsentAsync([new("a", Customer.Create("a", 1)), new("b", Customer.Create("b", 1))])
        );
    }

    [Fact]
    public async Task AnOutboxOnAnotherDatabase_IsRefused()
    {
        var store = new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(_db!, d => d.Customers, c => c.Id);
        ContextFactory<StoreDb> elsewhere = await database.CreateAsync();

        var error = Assert.Throws<ArgumentException>(() =>
            new EntityFrameworkCoreOutboxNewStore<StoreDb, Customer, string>(
                store,
                new EntityFrameworkCoreOutbox<StoreDb>(elsewhere)
            )
        );

        Assert.Contains("another database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AContextWithoutTheOutboxTable_IsRefused_NamingTheModelBuilderCall()
    {
        ContextFactory<EntriesOnlyDb> db = await database.CreateAsync<EntriesOnlyDb>(o => new EntriesOnlyDb(o));

        var error = Assert.Throws<InvalidOperationException>(() => new EntityFrameworkCoreOutbox<EntriesOnlyDb>(db));

        Assert.Contains("AddLazyMigrateOutbox()", error.Message, StringComparison.Ordinal);
    }

    private static OutboxIntent WriteBack(string id) =>
        new(Migration, OutboxItemKind.WriteBack, id, null, DateTimeOffset.UnixEpoch.AddYears(60));

    private static OutboxIntent Event(string id) =>
        new(
            Migration,
            OutboxItemKind.EntityMigrated,
            id,
            $$"""{"id":"{{id}}"}""",
            DateTimeOffset.UnixEpoch.AddYears(60)
        );

    private static ValueTask<IReadOnlyList<OutboxItem>> ClaimAllAsync(IMigrationOutbox outbox)
    {
        DateTimeOffset now = DateTimeOffset.UnixEpoch.AddYears(61);
        return outbox.ClaimAsync(new OutboxClaim(Migration, "test", 100, now, now.AddMinutes(1)));
    }

    /// <summary>The store and outbox over contexts whose saves fail on demand.</summary>
    private (EntityFrameworkCoreOutboxNewStore<StoreDb, Customer, string>, EntityFrameworkCoreOutbox<StoreDb>) Create()
    {
        var contexts = new ContextFactory<StoreDb>(
            database
                .Configure(new DbContextOptionsBuilder<StoreDb>(), _db!.ConnectionString)
                .AddInterceptors(_failing)
                .Options,
            o => new StoreDb(o),
            _db.ConnectionString
        );
        var outbox = new EntityFrameworkCoreOutbox<StoreDb>(contexts);
        var store = new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(contexts, d => d.Customers, c => c.Id);
        return (new EntityFrameworkCoreOutboxNewStore<StoreDb, Customer, string>(store, outbox), outbox);
    }

    /// <summary>Fails a <c>SaveChanges</c> that adds or changes an entity of <see cref="FailOn"/>'s type.</summary>
    private sealed class FailingSaves : SaveChangesInterceptor
    {
        public Type? FailOn { get; set; }

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
            DbContextEventData eventData,
            InterceptionResult<int> result,
            CancellationToken cancellationToken = default
        ) =>
            FailOn is { } type && eventData.Context!.ChangeTracker.Entries().Any(e => e.Entity.GetType() == type)
                ? throw new InjectedFailure()
                : ValueTask.FromResult(result);
    }

    private sealed class InjectedFailure() : Exception("injected SaveChanges failure");
}

/// <summary>A context that maps a store's entries but not the outbox.</summary>
public sealed class EntriesOnlyDb(DbContextOptions<EntriesOnlyDb> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>().HasKey(c => c.Id);
        modelBuilder.AddLazyMigrateEntries();
    }
}

public sealed class SqliteOutboxAtomicityTests() : OutboxAtomicity(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresOutboxAtomicityTests(PostgresServer server)
    : OutboxAtomicity(new PostgresDatabases(server));
