using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary><see cref="UseDistributedLockTests"/> on DistributedLock.Redis.</summary>
[Collection("redis")]
public sealed class RedisUseDistributedLockTests(RedisServer server) : UseDistributedLockTests
{
    protected override ILockBackend Backend { get; } = new RedisLockBackend(server);
}
