using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) over EF Core old and new stores. The lock is the core's in-memory one,
/// shared by every instance: what is under test here is the stores (insert-if-absent fences a lost lock), not a lock
/// backend.
/// </summary>
public abstract class EntityFrameworkCoreRepositoryInvariants(TestDatabase database)
    : RepositoryInvariantTests,
        IAsyncLifetime
{
    private readonly InMemoryMigrationLockProvider _lock = new();
    private ContextFactory<StoreDb>? _oldDb;

    /// <summary>A new store keeps ids of at most <see cref="LazyMigrateEntry.MaxEntityIdLength"/> characters.</summary>
    protected override string UnusableId => new('x', LazyMigrateEntry.MaxEntityIdLength + 1);

    /// <summary>One query reads a batch; a row it cannot materialize fails it whole.</summary>
    protected override bool DamagedRecordFailsItsWholeOldRead => true;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    protected override async Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync()
    {
        _oldDb = await database.CreateAsync();
        return new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            _oldDb,
            db => db.LegacyCustomers,
            c => c.Id
        );
    }

    protected override async Task<INewStore<Customer>> CreateNewStoreAsync() =>
        new EntityFrameworkCoreNewStore<StoreDb, Customer, string>(
            await database.CreateAsync(),
            db => db.Customers,
            c => c.Id
        );

    /// <summary>
    /// The Async write-back invariants over an EF Core outbox in a database of its own (the suite's counting wrapper
    /// of the new store records into it before each write: the atomic path has its own tests, OutboxAtomicityTests).
    /// </summary>
    protected override async Task<IMigrationOutbox> CreateOutboxAsync() =>
        new EntityFrameworkCoreOutbox<StoreDb>(await database.CreateAsync());

    /// <summary>The backfill's checkpoint and quarantine in a database of their own.</summary>
    protected override async Task<IBackfillCheckpointStore> CreateCheckpointStoreAsync() =>
        new EntityFrameworkCoreBackfillCheckpointStore<StoreDb>(await database.CreateAsync());

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(_lock);

    protected override Task LoseLockAsync(string key)
    {
        Assert.True(_lock.Expire(key), $"no lock was held under '{key}'");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Puts a version no <see cref="int"/> can hold into the row with raw SQL (on PostgreSQL, in a column widened to
    /// <c>bigint</c> first; SQLite columns take any value): EF Core cannot materialize it.
    /// </summary>
    protected override async Task DamageOldRecordAsync(IOldStore<LegacyCustomer> old, string id)
    {
        await using StoreDb db = _oldDb!.CreateDbContext();
        IEntityType entity = db.Model.FindEntityType(typeof(LegacyCustomer))!;
        string table = entity.GetTableName()!;
        string version = entity.FindProperty(nameof(LegacyCustomer.Version))!.GetColumnName();
        string key = entity.FindProperty(nameof(LegacyCustomer.Id))!.GetColumnName();
        if (db.Database.IsNpgsql())
        {
            string widen = $"ALTER TABLE \"{table}\" ALTER COLUMN \"{version}\" TYPE bigint";
            await db.Database.ExecuteSqlRawAsync(widen);
        }

        string update = $"UPDATE \"{table}\" SET \"{version}\" = {{0}} WHERE \"{key}\" = {{1}}";
        int updated = await db.Database.ExecuteSqlRawAsync(update, (long)int.MaxValue + 1, id);
        Assert.Equal(1, updated);
    }

    /// <summary>
    /// EF Core's failure to read the row becomes the store's <see cref="CorruptRowException"/> naming the id, which the
    /// repository passes on (docs/read-path.md: bad input is loud, nothing written), and a backfill quarantines.
    /// </summary>
    protected override void AssertDamagedRecordError(LazyMigrationException failure, string id)
    {
        var corrupt = Assert.IsType<CorruptRowException>(failure);
        Assert.Equal(id, corrupt.EntityId);
        Assert.IsType<OverflowException>(corrupt.InnerException); // the provider's checked read of the int column
    }
}

public sealed class SqliteRepositoryInvariantTests()
    : EntityFrameworkCoreRepositoryInvariants(new SqliteFiles(writeAheadLog: false));

public sealed class SqliteWalRepositoryInvariantTests()
    : EntityFrameworkCoreRepositoryInvariants(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresRepositoryInvariantTests(PostgresServer server)
    : EntityFrameworkCoreRepositoryInvariants(new PostgresDatabases(server));
