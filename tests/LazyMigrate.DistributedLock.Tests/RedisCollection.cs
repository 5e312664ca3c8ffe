using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The tests that share this run's throwaway Redis server.</summary>
[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisServer>;
