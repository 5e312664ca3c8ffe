using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DocumentationExamples.Tests;

/// <summary>The examples that need PostgreSQL share one throwaway server.</summary>
[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>The examples that need Redis share one throwaway server.</summary>
[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisServer>;
