using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The lock conformance suite on DistributedLock.Redis; a lock is lost by deleting its key.</summary>
[Collection("redis")]
public sealed class RedisLockConformanceTests(RedisServer server) : LockConformanceTests, IAsyncLifetime
{
    private readonly RedisLockBackend _backend = new(server);

    protected override async Task<IMigrationLockProvider> CreateProviderAsync() =>
        new DistributedLockMigrationLockProvider(await _backend.CreateInstanceAsync());

    protected override Task LoseAsync(string key, IMigrationLockHandle handle) => _backend.LoseAsync(key);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backend.DisposeAsync().AsTask();
}
