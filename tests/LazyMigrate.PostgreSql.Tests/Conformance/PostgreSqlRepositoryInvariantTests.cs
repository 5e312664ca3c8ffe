using LazyMigrate.Backfill;
using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) with PostgreSQL old and new stores, PostgreSQL advisory locks and, for
/// Async write-back, a PostgreSQL outbox (which the suite's counting wrapper of the new store records into before each
/// write: the atomic path has its own tests, OutboxEndToEndTests).
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlRepositoryInvariantTests(PostgresServer server) : RepositoryInvariantTests
{
    protected override Task<IBackfillCheckpointStore> CreateCheckpointStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(TestDatabase.CheckpointStore(server.DataSource));

    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(
            new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(new PostgreSqlAdvisoryLockProvider(server.LockDataSource));

    protected override async Task<IMigrationOutbox> CreateOutboxAsync() =>
        await OutboxTables.CreateOutboxAsync(server.DataSource);

    protected override async Task LoseLockAsync(string key) =>
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));

    /// <summary>The old store reads a batch in one query, which fails whole on one corrupt payload.</summary>
    protected override bool DamagedRecordFailsItsWholeOldRead => true;

    protected override Task DamageOldRecordAsync(IOldStore<LegacyCustomer> old, string id) =>
        CorruptOldRecords.CorruptAsync(server.DataSource, old, id);

    protected override void AssertDamagedRecordError(LazyMigrationException failure, string id) =>
        CorruptOldRecords.AssertCorruptPayload(failure, id);
}
