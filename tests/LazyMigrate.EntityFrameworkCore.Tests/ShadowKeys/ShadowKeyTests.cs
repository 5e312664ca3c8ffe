using LazyMigrate.EntityFrameworkCore.Tests.Legacy;
using LazyMigrate.InMemory;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.EntityFrameworkCore.Tests.ShadowKeys;

/// <summary>
/// A new model without an id member, unchanged, through the EF Core new store (a shadow key) and a migration from a
/// legacy table, on each database.
/// </summary>
public abstract class ShadowKeyTests(TestDatabase database) : IAsyncLifetime
{
    private static readonly DateTime UpdatedAt = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task NewStore_WritesTheIdIntoTheShadowKey_AndFindsEachEntityByIt()
    {
        ContextFactory<ShadowKeyDb> db = await database.CreateAsync<ShadowKeyDb>(o => new ShadowKeyDb(o));
        var store = new EntityFrameworkCoreNewStore<ShadowKeyDb, Customer, string>(db, d => d.Customers);

        Assert.True(await store.InsertIfAbsentAsync("c-1", new Customer("Ada", "Lovelace", "1")));
        await store.UpsertAsync("c-2", new Customer("Grace", "Hopper", "2"));
        await store.UpsertAsync("c-2", new Customer("Grace", "Brewster", "3"));

        Assert.Equal(new Customer("Ada", "Lovelace", "1"), (await store.FindAsync("c-1")).Value);
        IReadOnlyDictionary<string, NewStoreRead<Customer>> both = await store.FindManyAsync(["c-1", "c-2"]);
        Assert.Equal(new Customer("Grace", "Brewster", "3"), both["c-2"].Value);
        await using ShadowKeyDb check = db.CreateDbContext();
        List<string> keys = await check
            .Customers.Select(c => EF.Property<string>(c, ShadowKeyDb.KeyProperty))
            .OrderBy(k => k)
            .ToListAsync();
        Assert.Equal(["c-1", "c-2"], keys);
    }

    [Fact]
    public async Task Repository_FromALegacyTableToAnIdlessModel_MigratesAndWritesBackKeepingLegacyOnlyValues()
    {
        ContextFactory<LegacyDb> legacy = await LegacyTable.CreateAsync(database);
        ContextFactory<ShadowKeyDb> customers = await database.CreateAsync<ShadowKeyDb>(o => new ShadowKeyDb(o));
        await LegacyTable.SeedAsync(legacy, 1, "Ada Lovelace", UpdatedAt, "checked by billing");
        await using ServiceProvider provider = SyncWriteBackFromLegacyTable(legacy, customers);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyContact, Customer>>();

        Assert.Equal(new Customer("Ada", "Lovelace", "555-0100"), await repository.GetAsync("1"));
        await repository.SaveAsync("1", new Customer("Ada", "King", "555-0199"));
        await repository.SaveAsync("2", new Customer("Grace", "Hopper", "555-0200"));

        await using LegacyDb check = legacy.CreateDbContext();
        LegacyContact row = await check.Customers.SingleAsync(c => c.Id == 1);
        Assert.Equal(("Ada King", "555-0199"), (row.FullName, row.Phone));
        Assert.Equal(UpdatedAt, row.UpdatedAt); // the reported defect: it became NULL
        Assert.Equal("checked by billing", await LegacyTable.AuditOfAsync(legacy, 1));
        LegacyContact created = await check.Customers.SingleAsync(c => c.Id == 2);
        Assert.NotNull(created.UpdatedAt); // the database's default: EF Core left the property out of the insert
        Assert.Equal(LegacyTable.DefaultAudit, await LegacyTable.AuditOfAsync(legacy, 2));
        Assert.Equal(new Customer("Ada", "King", "555-0199"), await repository.GetAsync("1"));
    }

    [Theory]
    [InlineData("05")]
    [InlineData("abc")]
    public async Task SyncWriteBack_OfAnIdTheLegacyKeyCannotHold_FailsNamingIt_AndLeavesTheNewStoreUnchanged(string id)
    {
        ContextFactory<LegacyDb> legacy = await LegacyTable.CreateAsync(database);
        ContextFactory<ShadowKeyDb> customers = await database.CreateAsync<ShadowKeyDb>(o => new ShadowKeyDb(o));
        await using ServiceProvider provider = SyncWriteBackFromLegacyTable(legacy, customers);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyContact, Customer>>();
        var newStore = provider.GetRequiredKeyedService<INewStore<Customer>>("LegacyContact->Customer");

        var save = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            repository.SaveAsync(id, new Customer("Ada", "King", "555-0199")).AsTask()
        );
        var delete = await Assert.ThrowsAsync<InvalidEntityIdException>(() => repository.DeleteAsync(id).AsTask());

        Assert.Equal((id, id), (save.EntityId, delete.EntityId));
        Assert.Equal(NewStoreState.Missing, (await newStore.FindAsync(id)).State);
    }

    /// <summary>
    /// A migration from the legacy table to the id-less model through the two EF Core stores, with Sync write-back
    /// through a merger.
    /// </summary>
    private static ServiceProvider SyncWriteBackFromLegacyTable(
        ContextFactory<LegacyDb> legacy,
        ContextFactory<ShadowKeyDb> customers
    )
    {
        var services = new ServiceCollection();
        services.AddSingleton<IDbContextFactory<LegacyDb>>(legacy);
        services.AddSingleton<IDbContextFactory<ShadowKeyDb>>(customers);
        var mapper = new ContactMapper();
        services
            .AddLazyMigration<LegacyContact, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(mapper)
            .UseReverseMerger(mapper)
            .UseEntityFrameworkCoreOldStore((LegacyDb d) => d.Customers, c => c.Id)
            .UseEntityFrameworkCoreNewStore<LegacyContact, Customer, ShadowKeyDb, string>(d => d.Customers)
            .UseInMemoryLock();
        return services.BuildServiceProvider(validateScopes: true);
    }
}

public sealed class SqliteShadowKeyTests() : ShadowKeyTests(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresShadowKeyTests(PostgresServer server) : ShadowKeyTests(new PostgresDatabases(server))
{
    /// <summary>
    /// The PostgreSQL document store and the EF Core new store take the same id-less model, unchanged, and answer the
    /// same calls alike.
    /// </summary>
    [Fact]
    public async Task DocumentStoreAndEntityFrameworkCoreStore_TakeTheSameIdlessModel_AndAnswerAlike()
    {
        var databases = new PostgresDatabases(server);
        ContextFactory<ShadowKeyDb> db = await databases.CreateAsync<ShadowKeyDb>(o => new ShadowKeyDb(o));
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        INewStore<Customer>[] stores =
        [
            new PostgreSqlNewStore<Customer>(dataSource, new() { CreateSchema = true }),
            new EntityFrameworkCoreNewStore<ShadowKeyDb, Customer, string>(db, d => d.Customers),
        ];

        var answers = new List<string>[stores.Length];
        for (int i = 0; i < stores.Length; i++)
        {
            INewStore<Customer> store = stores[i];
            bool inserted = await store.InsertIfAbsentAsync("c-1", new Customer("Ada", "Lovelace", "1"));
            bool again = await store.InsertIfAbsentAsync("c-1", new Customer("Ada", "Byron", "2"));
            await store.UpsertAsync("c-2", new Customer("Grace", "Hopper", "3"));
            await store.DeleteAsync("c-3");
            IReadOnlyDictionary<string, NewStoreRead<Customer>> reads = await store.FindManyAsync([
                "c-1",
                "c-2",
                "c-3",
                "c-4",
            ]);
            answers[i] =
            [
                $"inserted {inserted}, again {again}",
                .. reads
                    .OrderBy(r => r.Key, StringComparer.Ordinal)
                    .Select(r => $"{r.Key}: {r.Value.State} {r.Value.Value}"),
            ];
        }

        await databases.DisposeAsync();
        Assert.Equal(answers[0], answers[1]);
        Assert.True(
            answers[1].Contains("c-1: Found Customer { FirstName = Ada, LastName = Lovelace, Phone = 1 }"),
            string.Join(" | ", answers[1])
        );
    }
}
