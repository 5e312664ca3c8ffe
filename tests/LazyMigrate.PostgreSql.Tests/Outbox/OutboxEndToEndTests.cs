using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// A migration over PostgreSQL stores and outbox with <see cref="WriteBackMode.Async"/>: the core writes each save's
/// intent through the store, in the upserted row itself, and the dispatcher copies it to the old store.
/// </summary>
[Collection("postgres")]
public sealed class OutboxEndToEndTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";

    [Fact]
    public async Task AsyncSave_RecordsItsWriteBackInTheUpsertedRow_AndTheDispatcherAppliesIt()
    {
        string oldTable = TestDatabase.UniqueTable("old");
        string newTable = TestDatabase.UniqueTable("new");
        string outboxTable = TestDatabase.UniqueTable("outbox");
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true), server.DataSource)
            .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (outboxTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true), server.DataSource)
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var old = provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration);
        await old.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await repository.GetAsync("a");
        await dispatcher.DrainAsync();

        using var recorder = new StatementRecorder(outboxTable);
        using (recorder.Step("save"))
        {
            await repository.SaveAsync("a", Customer.Create("a", 2));
        }

        // One row written: the write-back waits in the entity's row (writeback_pending) for the outbox to take it.
        string roundTrip = Assert.Single(recorder.Of("save"));
        Assert.Contains(newTable, roundTrip, StringComparison.Ordinal);
        Assert.Contains("writeback_pending", roundTrip, StringComparison.Ordinal);
        Assert.DoesNotContain($"INTO \"public\".\"{outboxTable}\"", roundTrip, StringComparison.Ordinal);
        Assert.Equal(1, (await old.FindAsync("a"))!.Version); // Async: not yet
        Assert.Equal(1L, (await dispatcher.GetStatisticsAsync()).Pending[OutboxItemKind.WriteBack]);
        await dispatcher.DrainAsync();
        Assert.Equal(2, (await old.FindAsync("a"))!.Version);
        Assert.Empty((await dispatcher.GetStatisticsAsync()).Pending);
    }
}
