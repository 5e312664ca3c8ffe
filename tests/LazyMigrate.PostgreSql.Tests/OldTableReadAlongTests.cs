using LazyMigrate.InMemory;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A new store's lock reads an old table of the same database, in either old-store layout, in its own round trip (<see
/// cref="IOldStoreReadAlong{TOld}"/>),
/// so that a migration under UseNewStoreLock costs the round trips of one without a lock.
/// </summary>
[Collection("postgres")]
public sealed class OldTableReadAlongTests(PostgresServer server)
{
    [Fact]
    public async Task TryLockAndReadOld_ReadsTheOldRowsOfExactlyTheIdsTheNewTableLacks()
    {
        var (oldStore, newStore) = Stores(server.DataSource);
        await oldStore.UpsertAsync("only-old", LegacyCustomer.Create("only-old", 1));
        await oldStore.UpsertAsync("both", LegacyCustomer.Create("both", 1));
        await oldStore.UpsertAsync("deleted-new", LegacyCustomer.Create("deleted-new", 1));
        await oldStore.UpsertAsync("deleted-old", LegacyCustomer.Create("deleted-old", 1));
        await oldStore.DeleteAsync("deleted-old");
        await newStore.UpsertAsync("both", Customer.Create("both", 2));
        await newStore.DeleteAsync("deleted-new");

        await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(
            ["only-old", "both", "deleted-new", "deleted-old", "nowhere"],
            TimeSpan.Zero,
            oldStore
        );

        var readAlong = Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(held);
        Assert.Equal(["only-old"], readAlong.OldEntities.Keys);
        Assert.Equal(1, readAlong.OldEntities["only-old"].Version);
        Assert.Equal(["both", "deleted-new"], held!.Current.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, held.Current["both"].Value!.Version);
        Assert.Equal(NewStoreState.Deleted, held.Current["deleted-new"].State);
    }

    [Fact]
    public async Task TryLockAndReadOld_OfOneId_ReadsItsOldRow_AndHoldsItsLock()
    {
        var (oldStore, newStore) = Stores(server.DataSource);
        await oldStore.UpsertAsync("a", LegacyCustomer.Create("a", 7));

        await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(
            ["a"],
            TimeSpan.Zero,
            oldStore
        );
        INewStoreLock<Customer>? refused = await newStore.TryLockAndReadOldAsync(["a"], TimeSpan.Zero, oldStore);

        Assert.Equal(7, Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(held).OldEntities["a"].Version);
        Assert.Empty(held!.Current);
        Assert.Null(refused);
    }

    [Fact]
    public async Task TryLockAndReadOld_WithAnOldStoreOfAnotherDatabase_InEitherLayout_OrOfAnotherKind_ReadsNoOldRows()
    {
        await using NpgsqlDataSource otherDatabase = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        var (elsewhere, _) = Stores(otherDatabase);
        var (_, newStore) = Stores(server.DataSource);
        PostgreSqlTableOldStore<LegacyCustomer> tableElsewhere = await LegacyTables.CustomerStoreAsync(
            otherDatabase,
            PostgreSqlKeyType.Integer
        );
        await elsewhere.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        await tableElsewhere.UpsertAsync("1", LegacyCustomer.Create("1", 1));
        var inMemory = new InMemoryOldStore<LegacyCustomer>().Seed("b", LegacyCustomer.Create("b", 1));

        // Either layout of another database: its table is not in the new table's database, so nothing reads it along.
        foreach (
            var (id, oldStore) in new (string, IOldStore<LegacyCustomer>)[] { ("a", elsewhere), ("1", tableElsewhere) }
        )
        {
            await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(
                [id],
                TimeSpan.Zero,
                oldStore
            );
            Assert.NotNull(held);
            Assert.False(held is IOldStoreReadAlong<LegacyCustomer>);
        }

        await using INewStoreLock<Customer>? other = await newStore.TryLockAndReadOldAsync(
            ["b"],
            TimeSpan.Zero,
            inMemory
        );
        Assert.NotNull(other);
        Assert.False(other is IOldStoreReadAlong<LegacyCustomer>);
        Assert.Equal(0, inMemory.ReadCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UseNewStoreLock_OnOneDatabase_MigratesInThreeRoundTrips_WithNoOldReadOfItsOwn(bool legacyTable)
    {
        // Either old-store layout: the document table, or an existing table with an integer key.
        string oldTable = legacyTable
            ? await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer)
            : TestDatabase.UniqueTable();
        string newTable = TestDatabase.UniqueTable();
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        ILazyMigrationBuilder<LegacyCustomer, Customer> builder = services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper());
        builder = legacyTable
            ? builder.UsePostgreSqlTableOldStore(o => (o.TableName, o.KeyType) = (oldTable, PostgreSqlKeyType.Integer))
            : builder.UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true));
        builder.UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true)).UseNewStoreLock();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var oldStore = provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer");
        await oldStore.UpsertAsync("1", LegacyCustomer.Create("1", 5));
        await oldStore.UpsertAsync("2", LegacyCustomer.Create("2", 6));
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await repository.GetAsync("2"); // the first call of each statement on a connection prepares it
        using var recorder = new StatementRecorder(table: newTable);
        using var oldTableRecorder = new StatementRecorder(table: oldTable);

        Customer? migrated;
        using (recorder.Step("get"))
        using (oldTableRecorder.Step("get"))
        {
            migrated = await repository.GetAsync("1");
        }

        Assert.Equal(5, migrated!.Version);
        IReadOnlyList<string> roundTrips = recorder.Of("get");
        // the miss, the lock with both reads, the insert with the commit: no old read of its own
        Assert.Equal(3, roundTrips.Count);
        Assert.Equal([roundTrips[1]], oldTableRecorder.Of("get"));
        Assert.Contains($"LEFT JOIN \"public\".\"{oldTable}\" AS o", roundTrips[1], StringComparison.Ordinal);
        Assert.Contains("COMMIT", roundTrips[2], StringComparison.Ordinal);
        Assert.Equal(
            5,
            (await provider.GetRequiredKeyedService<INewStore<Customer>>("LegacyCustomer->Customer").FindAsync("1"))
                .Value!
                .Version
        );
    }

    private static (PostgreSqlOldStore<LegacyCustomer> Old, PostgreSqlNewStore<Customer> New) Stores(
        NpgsqlDataSource dataSource
    ) => (new(dataSource, TestDatabase.Options()), new(dataSource, TestDatabase.Options()));
}
