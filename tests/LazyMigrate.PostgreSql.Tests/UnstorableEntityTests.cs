using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A string holding a NUL, which neither <c>jsonb</c> nor <c>text</c> can hold, fails as an
/// <see cref="UnstorableEntityException"/> naming the entity, before anything is sent, and nothing is written.
/// </summary>
[Collection("postgres")]
public sealed class UnstorableEntityTests(PostgresServer server)
{
    /// <summary>A name that must never appear in a message.</summary>
    private const string Secret = "Sec\0ret";

    private static Customer WithNul(string id) =>
        new()
        {
            Id = id,
            FirstName = Secret,
            LastName = "Last",
        };

    [Fact]
    public async Task NewStore_UpsertInsertAndBatchInsertWithANulInAString_ThrowNamingTheEntity_AndWriteNothing()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());

        var upsert = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await store.UpsertAsync("a", WithNul("a"))
        );
        var insert = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await store.InsertIfAbsentAsync("b", WithNul("b"))
        );
        var batch = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await store.InsertManyIfAbsentAsync([
                new("c", Customer.Create("c", 1)),
                new("d", WithNul("d")),
                new("e", WithNul("e")),
            ])
        );

        Assert.Equal(["a", "b", "d"], new[] { upsert, insert, batch }.Select(e => e.EntityId));
        Assert.All([upsert, insert, batch], e => AssertNamesCauseNotValues(e, store.TableName, "jsonb"));
        IReadOnlyDictionary<string, NewStoreRead<Customer>> found = await store.FindManyAsync(["a", "b", "c", "d"]);
        Assert.DoesNotContain(found.Values, read => read.State != NewStoreState.Missing);
    }

    [Theory]
    [InlineData("\\u0000")]
    [InlineData("C:\\\\u0000\\")]
    [InlineData("\\\\\\u0000 and \\u0001")]
    public async Task NewStore_ALiteralBackslashBeforeU0000_IsStoredAndReadBack(string name)
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        var customer = new Customer
        {
            Id = "a",
            FirstName = name,
            LastName = "Last",
        };

        await store.UpsertAsync("a", customer);

        Assert.Equal(name, (await store.FindAsync("a")).Value!.FirstName);
    }

    [Fact]
    public void Serializer_AnEscapedNulAfterAnyEvenRunOfBackslashes_IsFound_AndAnEscapedBackslashIsNot()
    {
        Assert.True(DocumentSerializer<Customer>.HoldsEscapedNul("""{"a":"\u0000"}"""u8));
        Assert.True(DocumentSerializer<Customer>.HoldsEscapedNul("""{"\\\u0000":1}"""u8));
        Assert.True(DocumentSerializer<Customer>.HoldsEscapedNul("""{"a":"\\u0000\u0000"}"""u8));
        Assert.False(DocumentSerializer<Customer>.HoldsEscapedNul("""{"a":"\\u0000"}"""u8));
        Assert.False(DocumentSerializer<Customer>.HoldsEscapedNul("""{"a":"\\\\u0000","b":"\u0001"}"""u8));
        Assert.False(DocumentSerializer<Customer>.HoldsEscapedNul("""u0000"""u8));
    }

    [Fact]
    public async Task OutboxStore_UpsertAndRecordWithANulInAString_ThrowsNamingTheEntity_AndRecordsNothing()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        PostgreSqlOutboxNewStore<Customer> store = OutboxTables.Store(server.DataSource, outbox);

        var failure = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await store.UpsertAndRecordAsync("a", WithNul("a"), OutboxTables.WriteBack("m", "a"))
        );

        Assert.Equal("a", failure.EntityId);
        Assert.Empty(await server.DataSource.HeldAsync(outbox));
        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("a")).State);
    }

    [Fact]
    public async Task Backfill_AnEntityWithANulInAString_IsQuarantined_AndTheRestOfItsBatchMigrate()
    {
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        for (int n = 0; n < 5; n++)
        {
            oldStore.Seed($"c{n}", LegacyCustomer.Create($"c{n}", n));
        }

        oldStore.Seed("c2", new LegacyCustomer { Id = "c2", FullName = "Sec\0ret Name" });
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true))
            .UseNewStoreLock()
            .UseBackfillCheckpointStore(new InMemoryBackfillCheckpointStore());
        await using ServiceProvider provider = services.BuildServiceProvider();
        var backfill = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();

        BackfillSummary summary = await backfill.RunAsync();

        Assert.Equal((4, 1), (summary.Counts.Migrated, summary.Counts.Quarantined));
        QuarantinedEntity quarantined = Assert.Single(await backfill.GetQuarantinedAsync());
        Assert.Equal("c2", quarantined.EntityId);
        Assert.StartsWith(nameof(UnstorableEntityException), quarantined.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("ret", quarantined.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TableOldStore_UpsertAndUpsertManyWithANulInATextColumn_ThrowNamingTheColumn_AndWriteNothing()
    {
        PostgreSqlTableOldStore<LegacyCustomer> store = await LegacyTables.CustomerStoreAsync(
            server.DataSource,
            PostgreSqlKeyType.Integer
        );
        var bad = new LegacyCustomer { FullName = Secret, Version = 1 };

        var upsert = await Assert.ThrowsAsync<UnstorableEntityException>(async () => await store.UpsertAsync("5", bad));
        var batch = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await store.UpsertManyAsync([new("6", LegacyCustomer.Create("6", 1)), new("7", bad), new("8", bad)])
        );

        Assert.Equal(["5", "7"], new[] { upsert, batch }.Select(e => e.EntityId));
        Assert.All([upsert, batch], e => AssertNamesCauseNotValues(e, store.TableName, "\"full_name\""));
        Assert.Empty(await store.FindManyAsync(["5", "6", "7", "8"]));
    }

    private static void AssertNamesCauseNotValues(UnstorableEntityException failure, string table, string cause)
    {
        Assert.Contains($"'{failure.EntityId}'", failure.Message, StringComparison.Ordinal);
        Assert.Contains(table, failure.Message, StringComparison.Ordinal);
        Assert.Contains(cause, failure.Message, StringComparison.Ordinal);
        Assert.Contains("NUL character (U+0000)", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec", failure.Message, StringComparison.Ordinal);
    }
}
