using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The lock conformance suite on DistributedLock.Redis; a lock is lost by deleting its key.</summary>
[Collection("redis")]
public sealed class RedisLockConformanceTests(RedisServer server)
    : DistributedLockConformanceTests(new RedisLockBackend(server));
