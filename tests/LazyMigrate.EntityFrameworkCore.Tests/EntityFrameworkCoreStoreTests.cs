using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// What the EF Core stores do beyond the conformance suites: races of many rounds, numeric keys, keys set from ids.
/// </summary>
public abstract class EntityFrameworkCoreStoreTests(TestDatabase database) : IAsyncLifetime
{
    private const int Rounds = 60;

    public static TheoryData<string> NotAnOrderNumber =>
        ["abc", "+5", "05", " 5", "5 ", "1e3", "99999999999", "", "5\0"];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task InsertIfAbsentRacingDelete_ManyRounds_NeverResurrects()
    {
        var (db, store) = await CustomersAsync();

        for (int round = 0; round < Rounds; round++)
        {
            string id = $"race-{round:D3}";
            bool[] inserted = await StartingGate.RunAsync(
                2,
                async i =>
                {
                    if (i == 0)
                    {
                        return await store.InsertIfAbsentAsync(id, Customer.Create(id, round));
                    }

                    await store.DeleteAsync(id);
                    return false;
                }
            );

            Assert.Equal(NewStoreState.Deleted, (await store.FindAsync(id)).State);
            Assert.False(await store.InsertIfAbsentAsync(id, Customer.Create(id, round)));
        }

        await AssertEntriesAgreeWithEntitiesAsync(db);
        await using StoreDb check = db.CreateDbContext();
        Assert.Equal(0, await check.Customers.CountAsync());
    }

    [Fact]
    public async Task InsertSaveAndDeleteRacing_EndDeletedOrSaved_NeverWithTheInsertedValue()
    {
        var (db, store) = await CustomersAsync();

        for (int round = 0; round < Rounds; round++)
        {
            string id = $"race-{round:D3}";
            await StartingGate.RunAsync(
                3,
                async i =>
                {
                    await InsertSaveOrDeleteAsync(store, i, id);
                    return 0;
                }
            );

            // Whatever the order, the save (version 2) or the delete came last: the inserted value never stands.
            NewStoreRead<Customer> read = await store.FindAsync(id);
            Assert.True(
                read.State == NewStoreState.Deleted || read is { State: NewStoreState.Found, Value.Version: 2 },
                $"round {round}: {read.State} {read.Value?.Version}"
            );
        }

        await AssertEntriesAgreeWithEntitiesAsync(db);
    }

    [Fact]
    public async Task InsertSaveAndDelete_InEveryOrder_EndAsTheLastOfSaveAndDelete_NeverWithTheInsertedValue()
    {
        var (db, store) = await CustomersAsync();
        int[][] orders =
        [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        var endings = new HashSet<NewStoreState>();

        for (int round = 0; round < 2 * orders.Length; round++)
        {
            int[] order = orders[round % orders.Length];
            string id = $"order-{round:D2}";
            TaskCompletionSource[] done =
            [
                .. Enumerable
                    .Range(0, 3)
                    .Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)),
            ];
            // The three start together, and each waits for the one before it in this round's order: the order is
            // certain, not left to the scheduler.
            await StartingGate
                .RunAsync(
                    3,
                    async i =>
                    {
                        int position = Array.IndexOf(order, i);
                        if (position > 0)
                        {
                            await done[order[position - 1]].Task;
                        }

                        try
                        {
                            await InsertSaveOrDeleteAsync(store, i, id);
                        }
                        finally
                        {
                            done[i].TrySetResult(); // a failure shows as itself, not as its successors' timeout
                        }

                        return 0;
                    }
                )
                .WaitAsync(TimeSpan.FromSeconds(30));

            NewStoreRead<Customer> read = await store.FindAsync(id);
            endings.Add(read.State);
            string what =
                $"order {string.Join(", ", order.Select(i => Operations[i]))}: {read.State} "
                + $"{read.Value?.Version}";
            if (Array.IndexOf(order, 2) > Array.IndexOf(order, 1))
            {
                Assert.True(read.State == NewStoreState.Deleted, what);
            }
            else
            {
                Assert.True(read is { State: NewStoreState.Found, Value.Version: 2 }, what);
            }
        }

        Assert.Equal([NewStoreState.Found, NewStoreState.Deleted], endings.Order());
        await AssertEntriesAgreeWithEntitiesAsync(db);
    }

    [Fact]
    public async Task InsertManyIfAbsent_RacingSavesAndDeletesOfSomeIds_InsertsExactlyTheOthers()
    {
        var (_, store) = await CustomersAsync();
        string[] ids = Enumerable.Range(0, 30).Select(i => $"batch-{i:D2}").ToArray();
        string[] contested = ids.Where((_, i) => i % 3 == 0).ToArray();

        IReadOnlyCollection<string>[] inserted = await StartingGate.RunAsync(
            1 + contested.Length,
            async i =>
            {
                if (i == 0)
                {
                    return await store.InsertManyIfAbsentAsync(
                        ids.Select(id => new KeyValuePair<string, Customer>(id, Customer.Create(id, 1))).ToArray()
                    );
                }

                string id = contested[i - 1];
                if (i % 2 == 0)
                {
                    await store.UpsertAsync(id, Customer.Create(id, 2));
                }
                else
                {
                    await store.DeleteAsync(id);
                }

                return (IReadOnlyCollection<string>)[];
            }
        );

        IReadOnlyDictionary<string, NewStoreRead<Customer>> reads = await store.FindManyAsync(ids);
        Assert.Equal(ids, reads.Keys.Order(StringComparer.Ordinal));
        foreach (string id in ids)
        {
            bool insertedHere = inserted[0].Contains(id);
            NewStoreRead<Customer> read = reads[id];
            if (!contested.Contains(id))
            {
                Assert.True(insertedHere, id);
                Assert.Equal(1, read.Value!.Version);
            }
            else
            {
                // A contested id ends as its save or delete left it, whether or not the batch got there first.
                Assert.True(read.State == NewStoreState.Deleted || read.Value!.Version == 2, id);
            }
        }
    }

    [Theory]
    [MemberData(nameof(NotAnOrderNumber))]
    public async Task NumericKey_IdThatIsNotTheCanonicalFormOfAKey_ThrowsInvalidEntityIdExceptionNamingIt(string id)
    {
        ContextFactory<StoreDb> db = await database.CreateAsync();
        var old = new EntityFrameworkCoreOldStore<StoreDb, Order, int>(db, d => d.Orders, o => o.Number);
        var neu = new EntityFrameworkCoreNewStore<StoreDb, Order, int>(db, d => d.Orders, o => o.Number);
        var order = new Order { Version = 1 };

        List<Func<Task>> calls =
        [
            async () => await old.FindAsync(id),
            async () => await old.FindManyAsync(["5", id]),
            async () => await old.UpsertAsync(id, order),
            async () => await old.DeleteAsync(id),
            async () => await old.ScanAsync(id).ToListAsync(),
            async () => await neu.FindAsync(id),
            async () => await neu.FindManyAsync(["5", id]),
            async () => await neu.InsertIfAbsentAsync(id, order),
            async () => await neu.InsertManyIfAbsentAsync([new("5", order), new(id, order)]),
            async () => await neu.UpsertAsync(id, order),
            async () => await neu.DeleteAsync(id),
        ];
        foreach (Func<Task> call in calls)
        {
            var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(call);
            Assert.Equal(id, failure.EntityId);
        }

        // Nothing was written, not even the valid id of a batch.
        Assert.Equal(NewStoreState.Missing, (await neu.FindAsync("5")).State);
        Assert.Empty(await old.ScanAsync(null).ToListAsync());
    }

    [Fact]
    public async Task NumericKey_ScansInKeyOrderAcrossPages_AndResumesAfterAnId()
    {
        ContextFactory<StoreDb> db = await database.CreateAsync();
        var old = new EntityFrameworkCoreOldStore<StoreDb, Order, int>(
            db,
            d => d.Orders,
            o => o.Number,
            new() { ScanPageSize = 2 }
        );
        foreach (int number in new[] { 100, 9, 1, 11, 10, 2, -3 })
        {
            await old.UpsertAsync(
                number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new Order { Version = number }
            );
        }

        List<string> all = (await old.ScanAsync(null).ToListAsync()).ConvertAll(e => e.Key);
        List<string> rest = (await old.ScanAsync("9").ToListAsync()).ConvertAll(e => e.Key);

        Assert.Equal(["-3", "1", "2", "9", "10", "11", "100"], all);
        Assert.Equal(["10", "11", "100"], rest);
    }

    [Fact]
    public async Task Writes_StoreTheEntityUnderItsId_SettingEvenAnInitOnlyKey()
    {
        ContextFactory<StoreDb> db = await database.CreateAsync();
        var neu = new EntityFrameworkCoreNewStore<StoreDb, Note, long>(db, d => d.Notes, n => n.Id);
        var old = new EntityFrameworkCoreOldStore<StoreDb, Note, long>(db, d => d.Notes, n => n.Id);

        Assert.True(await neu.InsertIfAbsentAsync("7", new Note("seven") { Id = 99 }));
        await neu.UpsertAsync("42", new Note("forty-two"));
        await old.UpsertAsync("43", new Note("forty-three"));

        Assert.Equal(7, (await neu.FindAsync("7")).Value!.Id);
        Assert.Equal(NewStoreState.Missing, (await neu.FindAsync("99")).State);
        Assert.Equal(new Note("forty-two") { Id = 42 }, (await neu.FindAsync("42")).Value);
        Assert.Equal(new Note("forty-three") { Id = 43 }, await old.FindAsync("43"));
    }

    [Fact]
    public async Task OldStore_UpsertsRacingOnANewId_EndWithOneRowHoldingOneOfTheValues()
    {
        ContextFactory<StoreDb> db = await database.CreateAsync();
        var old = new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            db,
            d => d.LegacyCustomers,
            c => c.Id
        );

        await StartingGate.RunAsync(
            8,
            async i =>
            {
                await old.UpsertAsync("contested", LegacyCustomer.Create("contested", i));
                return 0;
            }
        );

        LegacyCustomer? stored = await old.FindAsync("contested");
        Assert.InRange(stored!.Version, 0, 7);
        Assert.Single(await old.ScanAsync(null).ToListAsync());
    }

    private async Task<(
        ContextFactory<StoreDb> Db,
        EntityFrameworkCoreNewStore<StoreDb, Customer, string> Store
    )> CustomersAsync()
    {
        ContextFactory<StoreDb> db = await database.CreateAsync();
        return (db, new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(db, d => d.Customers, c => c.Id));
    }

    /// <summary>
    /// The two tables never contradict each other: no entity beside a tombstone, no entity without its live entry.
    /// </summary>
    private static async Task AssertEntriesAgreeWithEntitiesAsync(ContextFactory<StoreDb> db)
    {
        await using StoreDb check = db.CreateDbContext();
        Dictionary<string, bool> deleted = await check
            .Entries.Where(e => e.EntityType == nameof(Customer))
            .ToDictionaryAsync(e => e.EntityId, e => e.IsDeleted);
        foreach (string id in await check.Customers.Select(c => c.Id).ToListAsync())
        {
            Assert.True(
                deleted.TryGetValue(id, out bool isDeleted) && !isDeleted,
                $"entity {id} stands beside a tombstone or without an entry"
            );
        }
    }

    private static readonly string[] Operations = ["insert", "save", "delete"];

    /// <summary>0: inserts version 1 if absent, 1: saves version 2, 2: deletes.</summary>
    private static async Task InsertSaveOrDeleteAsync(INewStore<Customer> store, int operation, string id)
    {
        switch (operation)
        {
            case 0:
                await store.InsertIfAbsentAsync(id, Customer.Create(id, 1));
                break;
            case 1:
                await store.UpsertAsync(id, Customer.Create(id, 2));
                break;
            default:
                await store.DeleteAsync(id);
                break;
        }
    }
}

public sealed class SqliteStoreTests() : EntityFrameworkCoreStoreTests(new SqliteFiles(writeAheadLog: false));

public sealed class SqliteWalStoreTests() : EntityFrameworkCoreStoreTests(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresStoreTests(PostgresServer server)
    : EntityFrameworkCoreStoreTests(new PostgresDatabases(server));
