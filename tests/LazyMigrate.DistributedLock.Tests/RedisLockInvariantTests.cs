using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// The repository invariants with a DistributedLock.Redis lock between the instances, watching for loss (free on
/// Redis).
/// </summary>
[Collection("redis")]
public sealed class RedisLockInvariantTests(RedisServer server)
    : DistributedLockInvariantTests(new RedisLockBackend(server), watchForLoss: true);
