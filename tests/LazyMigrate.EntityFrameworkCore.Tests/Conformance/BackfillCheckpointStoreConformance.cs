using LazyMigrate.Backfill;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The checkpoint store suite on <see cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/>: a fresh database
/// per test, and another instance as another service would open it, over contexts of its own options.
/// </summary>
public abstract class EntityFrameworkCoreBackfillCheckpointStoreConformance(TestDatabase database)
    : BackfillCheckpointStoreConformanceTests,
        IAsyncLifetime
{
    private ContextFactory<StoreDb>? _db;

    public async Task InitializeAsync() => _db = await database.CreateAsync();

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override Task<IBackfillCheckpointStore> CreateStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(new EntityFrameworkCoreBackfillCheckpointStore<StoreDb>(_db!));

    protected override Task<IBackfillCheckpointStore> AnotherInstanceAsync(IBackfillCheckpointStore store) =>
        Task.FromResult<IBackfillCheckpointStore>(
            new EntityFrameworkCoreBackfillCheckpointStore<StoreDb>(
                new ContextFactory<StoreDb>(
                    database.Configure(new DbContextOptionsBuilder<StoreDb>(), _db!.ConnectionString).Options,
                    o => new StoreDb(o),
                    _db.ConnectionString
                )
            )
        );
}

public sealed class SqliteBackfillCheckpointStoreConformanceTests()
    : EntityFrameworkCoreBackfillCheckpointStoreConformance(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresBackfillCheckpointStoreConformanceTests(PostgresServer server)
    : EntityFrameworkCoreBackfillCheckpointStoreConformance(new PostgresDatabases(server));
