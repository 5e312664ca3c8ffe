using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// The repository invariants with a DistributedLock.Postgres lock between the instances, not watching for loss (the
/// default, see docs/distributed-lock.md).
/// </summary>
[Collection("postgres")]
public sealed class PostgresLockInvariantTests(PostgresServer server)
    : DistributedLockInvariantTests(new PostgresLockBackend(server), watchForLoss: false);
