using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.InMemory;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>The ways of running the LazyMigrate backfill that the SQLite benchmarks compare.</summary>
public enum SqliteBackfillChoice
{
    /// <summary>
    /// <c>UseInMemoryLock</c> (the EF Core new store cannot lock itself, so a lock takes a provider), batches of 1,000.
    /// </summary>
    InMemoryLock,

    /// <summary><c>UseLock = false</c>: insert-if-absent alone, batches of 1,000.</summary>
    WithoutLock,

    /// <summary>
    /// <c>UseInMemoryLock</c> and the checkpoint in the database (<c>UseEntityFrameworkCoreBackfillCheckpoints</c>,
    /// as in production), batches of 1,000.
    /// </summary>
    DatabaseCheckpoints,

    /// <summary>
    /// <c>UseInMemoryLock</c> and the default backfill options (adaptive batch size, 500 ms a batch).
    /// </summary>
    DefaultOptions,
}

/// <summary>
/// The legacy application's table as the migration's own context maps it: the columns of <see cref="LegacyCustomer"/>
/// by name, and the table's integer key, which the store sends rather than lets SQLite assign.
/// </summary>
public sealed class SqliteLegacyDb(DbContextOptions<SqliteLegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> Customers => Set<LegacyCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.ToTable(SqliteBackfill.LegacyTable);
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(c => c.FullName).HasColumnName("full_name");
            e.Property(c => c.Phone).HasColumnName("phone");
            e.Property(c => c.CreditLimit).HasColumnName("credit_limit");
            e.Property(c => c.UpdatedAt).HasColumnName("updated_at");
        });
}

/// <summary>
/// The new database's context: the backfilled customers under a shadow string key (the new model has no id member),
/// LazyMigrate's entries, and the backfill's checkpoint and quarantine tables.
/// </summary>
public sealed class SqliteBackfillDb(DbContextOptions<SqliteBackfillDb> options) : DbContext(options)
{
    /// <summary>The customers' key: a shadow property, the entity id.</summary>
    public const string Key = "Id";

    public DbSet<BackfilledCustomer> Customers => Set<BackfilledCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<BackfilledCustomer>(e =>
        {
            e.ToTable(SqliteBackfill.NewTable);
            e.Property<string>(Key).ValueGeneratedNever();
            e.HasKey(Key);
        });
        modelBuilder.AddLazyMigrateEntries();
        modelBuilder.AddLazyMigrateBackfill();
    }
}

/// <summary>
/// The SQLite side of the backfill benchmarks: one database file in a fresh temporary folder, in write-ahead-log mode,
/// holding the legacy table (created and filled with plain SQL, as the legacy application did) and the new tables
/// (created from <see cref="SqliteBackfillDb"/>'s model). The migration is built through DI as a user builds it.
/// </summary>
internal sealed class SqliteBackfill : IDisposable
{
    public const string LegacyTable = "legacy_customers";

    public const string NewTable = "backfilled_customers";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lazymigrate-sqlite-backfill-");

    private SqliteBackfill() =>
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_folder.FullName, "backfill.db"),
            Pooling = true,
        }.ToString();

    public string ConnectionString { get; }

    /// <summary>Creates the file with the new tables, then the legacy table of <paramref name="rows"/> rows.</summary>
    public static async Task<SqliteBackfill> CreateAsync(int rows)
    {
        var bench = new SqliteBackfill();
        await using (SqliteBackfillDb db = bench.NewContext())
        {
            await db.Database.EnsureCreatedAsync();
        }

        await using var connection = new SqliteConnection(bench.ConnectionString);
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        // Write-ahead logging, as docs/entity-framework-core.md advises: the next batch is read while one commits.
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync();
        // Every tenth customer has no phone, so the nullable column is read both ways (as on PostgreSQL).
        command.CommandText =
            $"CREATE TABLE {LegacyTable} (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, phone TEXT, "
            + "credit_limit INTEGER NOT NULL DEFAULT 0, updated_at TEXT); "
            + "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows) "
            + $"INSERT INTO {LegacyTable} (id, full_name, phone, credit_limit, updated_at) SELECT i, 'Customer ' || i, "
            + "CASE WHEN i % 10 = 0 THEN NULL ELSE '+44 20 7946 ' || substr('000' || i, -4) END, i % 5000, "
            + "'2019-06-01 08:00:00+00:00' FROM n; ANALYZE;";
        command.Parameters.AddWithValue("$rows", rows);
        await command.ExecuteNonQueryAsync();
        return bench;
    }

    /// <summary>Builds a container whose backfill starts from no checkpoint.</summary>
    /// <param name="choice">How the backfill runs.</param>
    /// <param name="interceptors">Added to both contexts' options: the probe's timers; none in the benchmarks.</param>
    public ServiceProvider Build(SqliteBackfillChoice choice, params IInterceptor[] interceptors)
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<SqliteLegacyDb>(o => o.UseSqlite(ConnectionString).AddInterceptors(interceptors));
        services.AddDbContextFactory<SqliteBackfillDb>(o =>
            o.UseSqlite(ConnectionString).AddInterceptors(interceptors)
        );
        var builder = services
            .AddLazyMigration<LegacyCustomer, BackfilledCustomer>(o =>
                o.UseLock = choice != SqliteBackfillChoice.WithoutLock
            )
            .UseMapper(BackfilledCustomer.From)
            .UseEntityFrameworkCoreOldStore((SqliteLegacyDb db) => db.Customers, c => c.Id)
            .UseEntityFrameworkCoreNewStore<LegacyCustomer, BackfilledCustomer, SqliteBackfillDb, string>(db =>
                db.Customers
            );
        if (choice != SqliteBackfillChoice.WithoutLock)
        {
            builder.UseInMemoryLock();
        }

        if (choice == SqliteBackfillChoice.DatabaseCheckpoints)
        {
            builder.UseEntityFrameworkCoreBackfillCheckpoints<LegacyCustomer, BackfilledCustomer, SqliteBackfillDb>();
        }

        if (choice != SqliteBackfillChoice.DefaultOptions)
        {
            builder.ConfigureBackfill(o =>
            {
                o.InitialBatchSize = HandWrittenSqliteBackfill.BatchSize;
                o.TargetBatchDuration = TimeSpan.Zero;
            });
        }

        return services.BuildServiceProvider();
    }

    public static IBackfillRunner<LegacyCustomer, BackfilledCustomer> Runner(IServiceProvider services) =>
        services.GetRequiredService<IBackfillRunner<LegacyCustomer, BackfilledCustomer>>();

    /// <summary>
    /// Empties the new table, the entries (else every id would be held already), and the checkpoint and quarantine
    /// tables, then folds the log back into the file, so every iteration starts from the same file.
    /// </summary>
    public void EmptyNewTables()
    {
        using (SqliteBackfillDb db = NewContext())
        {
            db.Customers.ExecuteDelete();
            db.Set<LazyMigrateEntry>().ExecuteDelete();
            db.Set<LazyMigrateBackfillCheckpoint>().ExecuteDelete();
            db.Set<LazyMigrateQuarantinedEntity>().ExecuteDelete();
        }

        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using SqliteCommand checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        checkpoint.ExecuteNonQuery();
    }

    /// <summary>Throws unless the new table holds exactly <paramref name="rows"/> rows.</summary>
    public void CheckCount(int rows)
    {
        using SqliteBackfillDb db = NewContext();
        int migrated = db.Customers.Count();
        if (migrated != rows)
        {
            throw new InvalidOperationException($"{migrated} of {rows} legacy rows reached {NewTable}.");
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    /// <summary>A context of the new database outside any container.</summary>
    public SqliteBackfillDb NewContext() =>
        new(new DbContextOptionsBuilder<SqliteBackfillDb>().UseSqlite(ConnectionString).Options);
}
