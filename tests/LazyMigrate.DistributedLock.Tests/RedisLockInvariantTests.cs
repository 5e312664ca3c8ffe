using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The repository invariants with a DistributedLock.Redis lock between the instances.</summary>
[Collection("redis")]
public sealed class RedisLockInvariantTests(RedisServer server)
    : DistributedLockInvariantTests(new RedisLockBackend(server));
