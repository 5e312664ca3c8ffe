using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary><see cref="UseDistributedLockTests"/> on DistributedLock.Postgres.</summary>
[Collection("postgres")]
public sealed class PostgresUseDistributedLockTests(PostgresServer server) : UseDistributedLockTests
{
    protected override ILockBackend Backend { get; } = new PostgresLockBackend(server);
}
