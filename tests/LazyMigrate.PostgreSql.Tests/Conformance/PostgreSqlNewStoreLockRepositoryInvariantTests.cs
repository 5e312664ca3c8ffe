using LazyMigrate.Backfill;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) with PostgreSQL stores whose new store takes the locks itself
/// (<c>UseNewStoreLock</c>).
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlNewStoreLockRepositoryInvariantTests(PostgresServer server) : RepositoryInvariantTests
{
    private PostgreSqlNewStore<Customer>? _newStore;

    protected override bool LockInNewStore => true;

    // The old table is in the same database: the store's lock reads it along, the path users of UseNewStoreLock get.
    protected override bool ReadsOldAlong => true;

    protected override Task<IBackfillCheckpointStore> CreateCheckpointStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(TestDatabase.CheckpointStore(server.DataSource));

    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(
            new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<INewStore<Customer>> CreateNewStoreAsync()
    {
        _newStore = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        return Task.FromResult<INewStore<Customer>>(_newStore);
    }

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        throw new NotSupportedException(
            "With UseNewStoreLock the new store takes the locks: no provider is asked for."
        );

    /// <summary>
    /// Terminates the backend holding the store's transaction lock of the id in <paramref name="key"/>
    /// (<c>lazymigrate:{migration}:{id}</c>).
    /// </summary>
    protected override async Task LoseLockAsync(string key)
    {
        string id = key[(key.IndexOf(':', "lazymigrate:".Length) + 1)..];
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(_newStore!.LockKey(id)));
    }

    /// <summary>The old store reads a batch in one query, which fails whole on one corrupt payload.</summary>
    protected override bool DamagedRecordFailsItsWholeOldRead => true;

    protected override Task DamageOldRecordAsync(IOldStore<LegacyCustomer> old, string id) =>
        CorruptOldRecords.CorruptAsync(server.DataSource, old, id);

    protected override void AssertDamagedRecordError(LazyMigrationException failure, string id) =>
        CorruptOldRecords.AssertCorruptPayload(failure, id);
}
