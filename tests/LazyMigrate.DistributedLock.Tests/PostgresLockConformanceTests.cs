using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The lock conformance suite on DistributedLock.Postgres advisory locks; a lock is lost by terminating its backend.</summary>
[Collection("postgres")]
public sealed class PostgresLockConformanceTests(PostgresServer server) : LockConformanceTests, IAsyncLifetime
{
    private readonly PostgresLockBackend _backend = new(server);

    protected override async Task<IMigrationLockProvider> CreateProviderAsync() =>
        new DistributedLockMigrationLockProvider(await _backend.CreateInstanceAsync());

    protected override Task LoseAsync(string key, IMigrationLockHandle handle) => _backend.LoseAsync(key);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _backend.DisposeAsync().AsTask();
}
