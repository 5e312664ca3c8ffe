using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests.Outbox;

/// <summary>
/// How the EF Core outbox claims: <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL, a conditional update per item elsewhere;
/// both over the model's names, quoted, however odd.
/// </summary>
public abstract class OutboxClaims(TestDatabase database) : IAsyncLifetime
{
    /// <summary>A table name with a quote, a space and what reads as a placeholder of EF Core's raw SQL.</summary>
    private const string OddTable = "outbox \"of\" {0} tests";

    private static readonly DateTimeOffset Now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract bool IsPostgreSql { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task TheClaim_IsTheProvidersOwn()
    {
        await using StoreDb db = (await database.CreateAsync()).CreateDbContext();

        string? claim = OutboxTable.Of(db).PostgreSqlClaim;

        if (IsPostgreSql)
        {
            Assert.NotNull(claim);
            Assert.Contains("FOR UPDATE SKIP LOCKED", claim, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(claim);
        }
    }

    [Fact]
    public async Task ATableWithAnOddName_RecordsClaimsAndCompletes()
    {
        ContextFactory<OddNameDb> db = await database.CreateAsync<OddNameDb>(o => new OddNameDb(o));
        var outbox = new EntityFrameworkCoreOutbox<OddNameDb>(db);

        await outbox.RecordAsync(new OutboxIntent("m", OutboxItemKind.WriteBack, "a", null, Now));
        await outbox.RecordAsync(new OutboxIntent("m", OutboxItemKind.WriteBack, "a", null, Now));
        OutboxItem item = Assert.Single(
            await outbox.ClaimAsync(new OutboxClaim("m", "owner", 10, Now, Now.AddSeconds(30)))
        );

        Assert.Equal(OddTable, outbox.TableName);
        Assert.Equal(("a", 2L, "owner"), (item.EntityId, item.Version, item.LeaseOwner));
        Assert.Empty(await outbox.ClaimAsync(new OutboxClaim("m", "other", 10, Now, Now.AddSeconds(30))));
        Assert.Equal(1, await outbox.CompleteAsync([item]));
    }

    /// <summary>A context whose outbox table has an odd name.</summary>
    public sealed class OddNameDb(DbContextOptions<OddNameDb> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.AddLazyMigrateOutbox(OddTable);
    }
}

public sealed class SqliteOutboxClaimTests() : OutboxClaims(new SqliteFiles(writeAheadLog: false))
{
    protected override bool IsPostgreSql => false;
}

[Collection("postgres")]
public sealed class PostgresOutboxClaimTests(PostgresServer server) : OutboxClaims(new PostgresDatabases(server))
{
    protected override bool IsPostgreSql => true;
}
