using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The new-store conformance suite over <see cref="EntityFrameworkCoreNewStore{TContext, TEntity, TKey}"/>, a fresh
/// database per store.
/// </summary>
public abstract class EntityFrameworkCoreNewStoreConformance(TestDatabase database)
    : NewStoreConformanceTests<Customer>,
        IAsyncLifetime
{
    public override Customer Create(string id, int version) => Customer.Create(id, version);

    public override int VersionOf(Customer entity) => entity.Version;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override async Task<INewStore<Customer>> CreateStoreAsync() =>
        new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(
            await database.CreateAsync(),
            db => db.Customers,
            c => c.Id
        );
}

public sealed class SqliteNewStoreConformanceTests()
    : EntityFrameworkCoreNewStoreConformance(new SqliteFiles(writeAheadLog: false));

public sealed class SqliteWalNewStoreConformanceTests()
    : EntityFrameworkCoreNewStoreConformance(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresNewStoreConformanceTests(PostgresServer server)
    : EntityFrameworkCoreNewStoreConformance(new PostgresDatabases(server));
