using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests.ShadowKeys;

/// <summary>
/// The new-store conformance suite over an entity without an id member, keyed by the model's shadow primary key.
/// </summary>
public abstract class ShadowKeyNewStoreConformance(TestDatabase database)
    : NewStoreConformanceTests<Customer>,
        IAsyncLifetime
{
    public override Customer Create(string id, int version) => Customers.Create(version);

    public override int VersionOf(Customer entity) => Customers.VersionOf(entity);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override async Task<INewStore<Customer>> CreateStoreAsync() =>
        new EntityFrameworkCoreNewStore<ShadowKeyDb, Customer, string>(
            await database.CreateAsync<ShadowKeyDb>(o => new ShadowKeyDb(o)),
            db => db.Customers
        );
}

public sealed class SqliteShadowKeyNewStoreConformanceTests()
    : ShadowKeyNewStoreConformance(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresShadowKeyNewStoreConformanceTests(PostgresServer server)
    : ShadowKeyNewStoreConformance(new PostgresDatabases(server));
