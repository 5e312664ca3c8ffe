using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// The lock conformance suite on DistributedLock.Postgres advisory locks; a lock is lost by terminating its backend.
/// </summary>
[Collection("postgres")]
public sealed class PostgresLockConformanceTests(PostgresServer server)
    : DistributedLockConformanceTests(new PostgresLockBackend(server));
