using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The old-store conformance suite, batched writes included, over
/// <see cref="EntityFrameworkCoreOldStore{TContext, TEntity, TKey}"/>, a fresh database per store.
/// </summary>
public abstract class EntityFrameworkCoreOldStoreConformance(TestDatabase database)
    : BatchWritingOldStoreConformanceTests<LegacyCustomer>,
        IAsyncLifetime
{
    public override LegacyCustomer Create(string id, int version) => LegacyCustomer.Create(id, version);

    public override int VersionOf(LegacyCustomer entity) => entity.Version;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    // A small page, so the 1,200-entity scan crosses many page boundaries.
    protected override async Task<IBatchWritingOldStore<LegacyCustomer>> CreateBatchStoreAsync() =>
        new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            await database.CreateAsync(),
            db => db.LegacyCustomers,
            c => c.Id,
            new() { ScanPageSize = 100 }
        );
}

public sealed class SqliteOldStoreConformanceTests()
    : EntityFrameworkCoreOldStoreConformance(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresOldStoreConformanceTests(PostgresServer server)
    : EntityFrameworkCoreOldStoreConformance(new PostgresDatabases(server));
