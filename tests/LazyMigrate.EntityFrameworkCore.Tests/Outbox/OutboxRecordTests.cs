using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests.Outbox;

/// <summary>
/// Standalone records racing on one new item, from two instances: the losers of the insert find the item and update
/// it, so every record gets its own version.
/// </summary>
public abstract class OutboxRecords(TestDatabase database) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task RecordsOfOneNewItemAtOnce_FromTwoInstances_EachGetTheirOwnVersion()
    {
        const int Writers = 8;
        ContextFactory<StoreDb> db = await database.CreateAsync();
        EntityFrameworkCoreOutbox<StoreDb>[] instances =
        [
            new(db),
            new(
                new ContextFactory<StoreDb>(
                    database.Configure(new DbContextOptionsBuilder<StoreDb>(), db.ConnectionString).Options,
                    o => new StoreDb(o),
                    db.ConnectionString
                )
            ),
        ];

        long[] versions = await StartingGate.RunAsync(
            Writers,
            writer =>
                instances[writer % 2]
                    .RecordAsync(new OutboxIntent("m", OutboxItemKind.WriteBack, "a", null, Now))
                    .AsTask()
        );

        Assert.Equal(Enumerable.Range(1, Writers).Select(v => (long)v), versions.Order());
        OutboxItem item = Assert.Single(
            await instances[0].ClaimAsync(new OutboxClaim("m", "owner", 10, Now, Now.AddSeconds(30)))
        );
        Assert.Equal(Writers, item.Version);
    }
}

public sealed class SqliteOutboxRecordTests() : OutboxRecords(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresOutboxRecordTests(PostgresServer server) : OutboxRecords(new PostgresDatabases(server));
