using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.PostgreSql;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace LazyMigrate.QuickStart;

/// <summary>
/// The new database: the new customers table, keyed by a shadow property (the new model has no id member),
/// LazyMigrate's entries (claims and tombstones) and the backfill's checkpoint and quarantine.
/// </summary>
public sealed class CustomerDb(DbContextOptions<CustomerDb> options) : DbContext(options)
{
    /// <summary>The customers' key: a shadow property, the entity id.</summary>
    public const string Key = "Id";

    public DbSet<Customer> Customers => Set<Customer>();

    public DbSet<LazyMigrateEntry> Entries => Set<LazyMigrateEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        SampleDatabase.UseSchema(modelBuilder, Database);
        modelBuilder.Entity<Customer>(e =>
        {
            e.ToTable("customers");
            e.Property<string>(Key).ValueGeneratedNever().UseCollation(SampleDatabase.BinaryCollation(Database));
            e.HasKey(Key);
        });
        modelBuilder.AddLazyMigrateEntries();

        // The backfill's checkpoint and quarantine, beside the entities it inserts.
        modelBuilder.AddLazyMigrateBackfill();
    }
}

/// <summary>
/// Where the two databases live: two SQLite files in a temporary folder (the default), or one PostgreSQL database.
/// Each makes the legacy table with the legacy application's plain SQL and gives the old store that reads it.
/// </summary>
public abstract class SampleDatabase : IAsyncDisposable
{
    /// <summary>
    /// The PostgreSQL schema the quick start owns: dropped and created again at every run, nothing else is touched.
    /// </summary>
    public const string PostgresSchema = "lazymigrate_quickstart";

    public abstract string Description { get; }

    /// <summary>Gets which old store reads the legacy table, and how.</summary>
    public abstract string OldStoreDescription { get; }

    /// <summary>Gets the legacy application's table, for its own plain SQL.</summary>
    public abstract LegacyTable Legacy { get; }

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

    /// <summary>Gets the options of the new database's contexts.</summary>
    public DbContextOptions<CustomerDb> NewOptions => field ??= Options<CustomerDb>(ConfigureNew);

    /// <summary>
    /// Creates the legacy table seeded with <paramref name="records"/> customers, and the new database empty.
    /// </summary>
    public async Task CreateAsync(int records)
    {
        await PrepareAsync();
        await Legacy.CreateAsync(records);
        await using CustomerDb customers = OpenNew();
        await CreateNewTablesAsync(customers);
    }

    /// <summary>The old store over the legacy table.</summary>
    public abstract IOldStore<LegacyCustomer> CreateOldStore();

    /// <summary>A context outside the migration, to look into the new database.</summary>
    public CustomerDb OpenNew() => new(NewOptions);

    public abstract ValueTask DisposeAsync();

    /// <summary>Makes room for the tables: a journal mode, or a fresh schema.</summary>
    protected abstract Task PrepareAsync();

    protected abstract void ConfigureNew(DbContextOptionsBuilder options);

    protected abstract Task CreateNewTablesAsync(CustomerDb customers);

    private static DbContextOptions<TContext> Options<TContext>(Action<DbContextOptionsBuilder> configure)
        where TContext : DbContext
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        configure(builder);
        return builder.Options;
    }

    /// <summary>
    /// legacy.db and customers.db side by side in a fresh temporary folder, removed at the end. The legacy table is
    /// read and written back through EF Core (<see cref="LegacyDb"/>).
    /// </summary>
    private sealed class SqliteFiles : SampleDatabase
    {
        private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lazymigrate-quickstart-");
        private readonly SynchronousNormal _synchronousNormal = new();

        public SqliteFiles() =>
            Legacy = LegacyTable.OnSqlite(() => new SqliteConnection(ConnectionString("legacy.db")));

        public override string Description =>
            $"SQLite files {Path.Combine(_folder.FullName, "legacy.db")} and customers.db next to it";

        public override string OldStoreDescription =>
            "EntityFrameworkCoreOldStore over legacy_customers (LegacyDb, int key)";

        public override LegacyTable Legacy { get; }

        public override IOldStore<LegacyCustomer> CreateOldStore() =>
            new EntityFrameworkCoreOldStore<LegacyDb, LegacyCustomer, int>(
                new PooledDbContextFactory<LegacyDb>(
                    new DbContextOptionsBuilder<LegacyDb>()
                        .UseSqlite(ConnectionString("legacy.db"))
                        .AddInterceptors(_synchronousNormal)
                        .Options
                ),
                db => db.Customers
            );

        protected override void ConfigureNew(DbContextOptionsBuilder options) =>
            options.UseSqlite(ConnectionString("customers.db")).AddInterceptors(_synchronousNormal);

        public override ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            _folder.Delete(recursive: true);
            return ValueTask.CompletedTask;
        }

        // Write-ahead logging: readers go on while a writer commits, and a commit syncs the log, not the file.
        protected override async Task PrepareAsync()
        {
            await using var legacy = new SqliteConnection(ConnectionString("legacy.db"));
            await legacy.OpenAsync();
            await using SqliteCommand wal = legacy.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync();
        }

        protected override async Task CreateNewTablesAsync(CustomerDb customers)
        {
            await customers.Database.EnsureCreatedAsync();
            await customers.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
        }

        private string ConnectionString(string file) =>
            new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(_folder.FullName, file),
                Pooling = true,
            }.ToString();
    }

    /// <summary>
    /// Both tables in the schema <see cref="PostgresSchema"/> of the database the connection string names. The legacy
    /// table is read and written back through <see cref="PostgreSqlTableOldStore{TOld}"/>, the new one through EF Core.
    /// </summary>
    private sealed class PostgresSchemaDatabase : SampleDatabase
    {
        private readonly string _connectionString;
        private readonly NpgsqlDataSource _dataSource;

        public PostgresSchemaDatabase(string connectionString)
        {
            _connectionString = connectionString;
            _dataSource = NpgsqlDataSource.Create(connectionString);
            Legacy = LegacyTable.OnPostgres(_dataSource.CreateConnection, PostgresSchema);
        }

        public override string Description =>
            $"PostgreSQL {new NpgsqlConnectionStringBuilder(_connectionString) { Password = null }.Host}, "
            + $"schema {PostgresSchema} (created afresh)";

        public override string OldStoreDescription =>
            "PostgreSqlTableOldStore over legacy_customers (integer key, columns by convention)";

        public override LegacyTable Legacy { get; }

        public override IOldStore<LegacyCustomer> CreateOldStore() =>
            new PostgreSqlTableOldStore<LegacyCustomer>(
                _dataSource,
                new PostgreSqlTableStoreOptions<LegacyCustomer>
                {
                    Schema = PostgresSchema,
                    TableName = LegacyTable.Name,
                    // LegacyCustomer has no id member to infer the key's type from.
                    KeyType = PostgreSqlKeyType.Integer,
                }
            );

        protected override void ConfigureNew(DbContextOptionsBuilder options) => options.UseNpgsql(_connectionString);

        public override async ValueTask DisposeAsync()
        {
            await _dataSource.DisposeAsync();
            await using var connection = new NpgsqlConnection(_connectionString);
            NpgsqlConnection.ClearPool(connection);
        }

        protected override async Task PrepareAsync()
        {
            await using NpgsqlCommand schema = _dataSource.CreateCommand(
                $"DROP SCHEMA IF EXISTS {PostgresSchema} CASCADE; CREATE SCHEMA {PostgresSchema};"
            );
            await schema.ExecuteNonQueryAsync();
        }

        protected override Task CreateNewTablesAsync(CustomerDb customers) =>
            customers.GetService<IRelationalDatabaseCreator>().CreateTablesAsync();
    }
}
