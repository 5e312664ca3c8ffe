using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// Ids PostgreSQL text cannot hold fail as <see cref="InvalidEntityIdException"/> naming the id, before any command.
/// </summary>
[Collection("postgres")]
public sealed class EntityIdTests(PostgresServer server)
{
    // By name: xunit would replace a lone surrogate in theory data with U+FFFD on its way to the test.
    private static readonly Dictionary<string, string> Unstorable = new()
    {
        ["nul"] = "nul\0inside",
        ["lone-high-surrogate"] = "lone\uD800surrogate",
        ["lone-low-surrogate"] = "\uDC00",
        ["swapped-surrogates"] = "\uDE00\uD83D",
    };

    public static TheoryData<string> UnstorableIds => new(Unstorable.Keys);

    [Theory]
    [MemberData(nameof(UnstorableIds))]
    public async Task NewStore_UnstorableId_ThrowsInvalidEntityId(string name)
    {
        string id = Unstorable[name];
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());

        var find = await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.FindAsync(id));
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.FindManyAsync(["fine", id]));
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await store.InsertIfAbsentAsync(id, Customer.Create(id, 1))
        );
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await store.InsertManyIfAbsentAsync([
                new("fine", Customer.Create("fine", 1)),
                new(id, Customer.Create(id, 1)),
            ])
        );
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await store.UpsertAsync(id, Customer.Create(id, 1))
        );
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.DeleteAsync(id));

        Assert.Equal(id, find.EntityId);
        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("fine")).State);
    }

    [Theory]
    [MemberData(nameof(UnstorableIds))]
    public async Task OldStore_UnstorableId_ThrowsInvalidEntityId(string name)
    {
        string id = Unstorable[name];
        var store = new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options());

        await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.FindAsync(id));
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.FindManyAsync([id]));
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1))
        );
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await store.DeleteAsync(id));
        Assert.Throws<InvalidEntityIdException>(() => store.ScanAsync(id));
    }

    [Fact]
    public async Task SaveAsync_WithSyncWriteBackAndTheAdvisoryLock_AnIdWithNul_IsAnInvalidEntityId_AndWritesNothing()
    {
        string oldTable = TestDatabase.UniqueTable();
        string newTable = TestDatabase.UniqueTable();
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true))
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        const string Id = "nul\0inside";

        var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await repository.SaveAsync(Id, Customer.Create(Id, 1))
        );
        await repository.SaveAsync("fine", Customer.Create("fine", 2));

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(1, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{newTable}\""));
        Assert.Equal(1, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{oldTable}\""));
    }

    [Fact]
    public async Task Ids_WithAnyOtherText_RoundTrip()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        string[] ids = ["", " ", "O'Brien", "a;b--c", "emoji-\U0001F600", "tab\there", "日本"];

        foreach (string id in ids)
        {
            Assert.True(await store.InsertIfAbsentAsync(id, Customer.Create(id, 1)));
        }

        Assert.Equal(
            ids.Order(StringComparer.Ordinal),
            (await store.FindManyAsync(ids)).Keys.Order(StringComparer.Ordinal)
        );
    }
}
