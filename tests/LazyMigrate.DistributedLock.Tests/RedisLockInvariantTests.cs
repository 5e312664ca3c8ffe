using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// DESIGN.md's invariants with a DistributedLock.Redis lock on the real server between the instances. The stores are
/// the in-memory ones, shared by the instances: the lock is what is under test here.
/// </summary>
[Collection("redis")]
public sealed class RedisLockInvariantTests(RedisServer server) : RepositoryInvariantTests, IAsyncLifetime
{
    private readonly RedisLockBackend _backend = new(server);

    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() => Task.FromResult<IOldStore<LegacyCustomer>>(new InMemoryOldStore<LegacyCustomer>());

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() => Task.FromResult<INewStore<Customer>>(new InMemoryNewStore<Customer>());

    protected override async Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        new DistributedLockMigrationLockProvider(await _backend.CreateInstanceAsync());

    protected override Task LoseLockAsync(string key) => _backend.LoseAsync(key);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backend.DisposeAsync().AsTask();
}
