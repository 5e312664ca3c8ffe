using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) over EF Core old and new stores. The lock is the core's in-memory one,
/// shared by every instance: what is under test here is the stores (insert-if-absent fences a lost lock), not a lock
/// backend.
/// </summary>
public abstract class EntityFrameworkCoreRepositoryInvariants(TestDatabase database)
    : RepositoryInvariantTests,
        IAsyncLifetime
{
    private readonly InMemoryMigrationLockProvider _lock = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override async Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            await database.CreateAsync(),
            db => db.LegacyCustomers,
            c => c.Id
        );

    protected override async Task<INewStore<Customer>> CreateNewStoreAsync() =>
        new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(
            await database.CreateAsync(),
            db => db.Customers,
            c => c.Id
        );

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(_lock);

    protected override Task LoseLockAsync(string key)
    {
        Assert.True(_lock.Expire(key), $"no lock was held under '{key}'");
        return Task.CompletedTask;
    }
}

public sealed class SqliteRepositoryInvariantTests()
    : EntityFrameworkCoreRepositoryInvariants(new SqliteFiles(writeAheadLog: false));

public sealed class SqliteWalRepositoryInvariantTests()
    : EntityFrameworkCoreRepositoryInvariants(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresRepositoryInvariantTests(PostgresServer server)
    : EntityFrameworkCoreRepositoryInvariants(new PostgresDatabases(server));
