using LazyMigrate.EntityFrameworkCore;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace LazyMigrate.QuickStart;

/// <summary>The legacy database: the old system's customers table.</summary>
public sealed class LegacyDb(DbContextOptions<LegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> Customers => Set<LegacyCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        SampleDatabase.UseSchema(modelBuilder, Database);
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.ToTable("legacy_customers");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever().UseCollation(SampleDatabase.BinaryCollation(Database));
        });
    }
}

/// <summary>The new database: the new customers table and LazyMigrate's entries (claims and tombstones).</summary>
public sealed class CustomerDb(DbContextOptions<CustomerDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    public DbSet<LazyMigrateEntry> Entries => Set<LazyMigrateEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        SampleDatabase.UseSchema(modelBuilder, Database);
        modelBuilder.Entity<Customer>(e =>
        {
            e.ToTable("customers");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever().UseCollation(SampleDatabase.BinaryCollation(Database));
        });
        modelBuilder.AddLazyMigrateEntries();
    }
}

/// <summary>
/// Where the two databases live: two SQLite files in a temporary folder (the default), or one PostgreSQL database.
/// </summary>
public abstract class SampleDatabase : IAsyncDisposable
{
    /// <summary>
    /// The PostgreSQL schema the quick start owns: dropped and created again at every run, nothing else is touched.
    /// </summary>
    public const string PostgresSchema = "lazymigrate_quickstart";

    public abstract string Description { get; }

    public static SampleDatabase Sqlite() => new SqliteFiles();

    public static SampleDatabase Postgres(string connectionString) => new PostgresSchemaDatabase(connectionString);

    public static void UseSchema(ModelBuilder modelBuilder, DatabaseFacade database)
    {
        if (database.IsNpgsql())
        {
            modelBuilder.HasDefaultSchema(PostgresSchema);
        }
    }

    /// <summary>
    /// Ids scan in ordinal order only under a binary collation: SQLite's default is one, PostgreSQL's is "C".
    /// </summary>
    public static string? BinaryCollation(DatabaseFacade database) => database.IsNpgsql() ? "C" : null;

    /// <summary>Gets the options of the legacy database's contexts.</summary>
    public DbContextOptions<LegacyDb> LegacyOptions => field ??= Options<LegacyDb>(ConfigureLegacy);

    /// <summary>Gets the options of the new database's contexts.</summary>
    public DbContextOptions<CustomerDb> NewOptions => field ??= Options<CustomerDb>(ConfigureNew);

    /// <summary>
    /// Creates both databases empty, then seeds the legacy one with <paramref name="records"/> customers in one
    /// transaction.
    /// </summary>
    public async Task CreateAsync(int records)
    {
        await using LegacyDb legacy = OpenLegacy();
        await using CustomerDb customers = OpenNew();
        await CreateTablesAsync(legacy, customers);

        legacy.ChangeTracker.AutoDetectChangesEnabled = false;
        legacy.Customers.AddRange(Enumerable.Range(1, records).Select(LegacyCustomers.Create));
        await legacy.SaveChangesAsync();
    }

    /// <summary>A context outside the migration, as the old API or a reporting job would open one.</summary>
    public LegacyDb OpenLegacy() => new(LegacyOptions);

    /// <summary>A context outside the migration, to look into the new database.</summary>
    public CustomerDb OpenNew() => new(NewOptions);

    public abstract ValueTask DisposeAsync();

    protected abstract void ConfigureLegacy(DbContextOptionsBuilder options);

    protected abstract void ConfigureNew(DbContextOptionsBuilder options);

    protected abstract Task CreateTablesAsync(LegacyDb legacy, CustomerDb customers);

    private static DbContextOptions<TContext> Options<TContext>(Action<DbContextOptionsBuilder> configure)
        where TContext : DbContext
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        configure(builder);
        return builder.Options;
    }

    /// <summary>legacy.db and customers.db side by side in a fresh temporary folder, removed at the end.</summary>
    private sealed class SqliteFiles : SampleDatabase
    {
        private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lazymigrate-quickstart-");

        public override string Description =>
            $"SQLite files {Path.Combine(_folder.FullName, "legacy.db")} and customers.db next to it";

        private readonly SynchronousNormal _synchronousNormal = new();

        protected override void ConfigureLegacy(DbContextOptionsBuilder options) =>
            options.UseSqlite(ConnectionString("legacy.db")).AddInterceptors(_synchronousNormal);

        protected override void ConfigureNew(DbContextOptionsBuilder options) =>
            options.UseSqlite(ConnectionString("customers.db")).AddInterceptors(_synchronousNormal);

        public override ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            _folder.Delete(recursive: true);
            return ValueTask.CompletedTask;
        }

        protected override async Task CreateTablesAsync(LegacyDb legacy, CustomerDb customers)
        {
            foreach (DbContext db in new DbContext[] { legacy, customers })
            {
                await db.Database.EnsureCreatedAsync();

                // Write-ahead logging: readers go on while a writer commits, and a commit syncs the log, not the file.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
            }
        }

        private string ConnectionString(string file) =>
            new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(_folder.FullName, file),
                Pooling = true,
            }.ToString();
    }

    /// <summary>
    /// Both tables in the schema <see cref="PostgresSchema"/> of the database the connection string names.
    /// </summary>
    private sealed class PostgresSchemaDatabase(string connectionString) : SampleDatabase
    {
        public override string Description =>
            $"PostgreSQL {new NpgsqlConnectionStringBuilder(connectionString) { Password = null }.Host}, "
            + $"schema {PostgresSchema} (created afresh)";

        protected override void ConfigureLegacy(DbContextOptionsBuilder options) => options.UseNpgsql(connectionString);

        protected override void ConfigureNew(DbContextOptionsBuilder options) => options.UseNpgsql(connectionString);

        public override ValueTask DisposeAsync()
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
            return ValueTask.CompletedTask;
        }

        protected override async Task CreateTablesAsync(LegacyDb legacy, CustomerDb customers)
        {
            await legacy.Database.ExecuteSqlRawAsync(
                $"DROP SCHEMA IF EXISTS {PostgresSchema} CASCADE; CREATE SCHEMA {PostgresSchema};"
            );
            foreach (DbContext db in new DbContext[] { legacy, customers })
            {
                await db.GetService<IRelationalDatabaseCreator>().CreateTablesAsync();
            }
        }
    }
}
