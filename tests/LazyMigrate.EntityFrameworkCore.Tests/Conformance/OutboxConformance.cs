using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The outbox suite on <see cref="EntityFrameworkCoreOutbox{TContext}"/>: a fresh database per test, and another
/// instance as another service would open it, over contexts of its own options.
/// </summary>
public abstract class EntityFrameworkCoreOutboxConformance(TestDatabase database)
    : OutboxConformanceTests,
        IAsyncLifetime
{
    private ContextFactory<StoreDb>? _db;

    public async Task InitializeAsync() => _db = await database.CreateAsync();

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override Task<IMigrationOutbox> CreateOutboxAsync() =>
        Task.FromResult<IMigrationOutbox>(new EntityFrameworkCoreOutbox<StoreDb>(_db!));

    protected override Task<IMigrationOutbox> AnotherInstanceAsync(IMigrationOutbox outbox) =>
        Task.FromResult<IMigrationOutbox>(
            new EntityFrameworkCoreOutbox<StoreDb>(
                new ContextFactory<StoreDb>(
                    database.Configure(new DbContextOptionsBuilder<StoreDb>(), _db!.ConnectionString).Options,
                    o => new StoreDb(o),
                    _db.ConnectionString
                )
            )
        );
}

public sealed class SqliteOutboxConformanceTests()
    : EntityFrameworkCoreOutboxConformance(new SqliteFiles(writeAheadLog: false));

public sealed class SqliteWalOutboxConformanceTests()
    : EntityFrameworkCoreOutboxConformance(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresOutboxConformanceTests(PostgresServer server)
    : EntityFrameworkCoreOutboxConformance(new PostgresDatabases(server));
