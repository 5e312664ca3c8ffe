using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The tests that share this run's throwaway PostgreSQL server.</summary>
[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;
