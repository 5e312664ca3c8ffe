using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>The throwaway PostgreSQL server, shared by every test class of this assembly that needs it.</summary>
[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;
