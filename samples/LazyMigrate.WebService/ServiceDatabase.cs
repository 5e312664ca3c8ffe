using System.Globalization;
using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.InMemory;
using LazyMigrate.PostgreSql;
using LazyMigrate.QuickStart;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace LazyMigrate.WebService;

/// <summary>
/// Where the legacy table and the new store live, and the migration's stores over them: two SQLite files (the
/// default), or one PostgreSQL database. Each creates and seeds the legacy table with the legacy application's plain
/// SQL on first start, and says how an old-API write reaches the migration (<see cref="ILegacyWrites"/>).
/// </summary>
public abstract class ServiceDatabase : IAsyncDisposable
{
    /// <summary>The migration's name: its lock keys, its outbox items and its metrics carry it.</summary>
    public const string Migration = "customers";

    /// <summary>Gets a description of the databases, for the start-up line.</summary>
    public abstract string Description { get; }

    /// <summary>Gets the legacy application's table, for the old API's plain SQL.</summary>
    public abstract LegacyTable Legacy { get; }

    public static ServiceDatabase For(ServiceSettings settings) =>
        settings.Postgres is { } connectionString
            ? new PostgresDatabase(connectionString)
            : new SqliteDatabase(settings.DataFolder);

    /// <summary>
    /// Creates what is missing (all of it on first start, or after <c>--reset</c>): the legacy table seeded with
    /// <paramref name="records"/> customers, and the new store's tables empty. Returns whether it seeded.
    /// </summary>
    public abstract Task<bool> PrepareAsync(int records, bool reset);

    /// <summary>Registers the stores, outbox and lock, and the old API's <see cref="ILegacyWrites"/>.</summary>
    public abstract void Configure(ILazyMigrationBuilder<LegacyCustomer, Customer> migration);

    /// <summary>Counts the customers the new store holds, tombstones not counted: the entities migrated.</summary>
    public abstract Task<long> CountMigratedAsync(IServiceProvider services, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// One line for a failure of <see cref="PrepareAsync"/> that means the database cannot be used as given (not
    /// reachable, missing, refusing the user), naming where it was looked for but never a password; or
    /// <see langword="null"/> for any other failure, which is a bug to show whole.
    /// </summary>
    public virtual string? Unusable(Exception exception) => null;

    /// <summary>
    /// legacy.db and customers.db in the data folder. LazyMigrate reads the legacy table and writes back to it through
    /// EF Core (<see cref="LegacyDb"/>); the old API's writes are recorded by the legacy code's one call.
    /// </summary>
    private sealed class SqliteDatabase : ServiceDatabase
    {
        private readonly string _folder;
        private readonly SynchronousNormal _synchronousNormal = new();

        public SqliteDatabase(string folder)
        {
            _folder = Path.GetFullPath(folder);
            Legacy = LegacyTable.OnSqlite(() => new SqliteConnection(ConnectionString("legacy.db")));
        }

        public override string Description => $"SQLite files legacy.db and customers.db in {_folder}";

        public override LegacyTable Legacy { get; }

        public override async Task<bool> PrepareAsync(int records, bool reset)
        {
            if (reset && Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }

            Directory.CreateDirectory(_folder);
            bool seed;
            await using (var legacy = new SqliteConnection(ConnectionString("legacy.db")))
            {
                await legacy.OpenAsync();
                await using SqliteCommand wal = legacy.CreateCommand();
                // Write-ahead logging: readers go on while a writer commits.
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                await wal.ExecuteNonQueryAsync();
                await using SqliteCommand exists = legacy.CreateCommand();
                exists.CommandText =
                    $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{LegacyTable.Name}'";
                seed = Convert.ToInt64(await exists.ExecuteScalarAsync(), CultureInfo.InvariantCulture) == 0;
            }

            if (seed)
            {
                await Legacy.CreateAsync(records);
            }

            await using var customers = new CustomerDb(
                new DbContextOptionsBuilder<CustomerDb>().UseSqlite(ConnectionString("customers.db")).Options
            );
            if (await customers.Database.EnsureCreatedAsync())
            {
                await customers.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
            }

            return seed;
        }

        public override void Configure(ILazyMigrationBuilder<LegacyCustomer, Customer> migration)
        {
            migration.Services.AddPooledDbContextFactory<LegacyDb>(o =>
                o.UseSqlite(ConnectionString("legacy.db")).AddInterceptors(_synchronousNormal)
            );
            migration.Services.AddPooledDbContextFactory<CustomerDb>(o =>
                o.UseSqlite(ConnectionString("customers.db")).AddInterceptors(_synchronousNormal)
            );
            migration
                .UseEntityFrameworkCoreOldStore<LegacyCustomer, Customer, LegacyDb, int>(db => db.Customers)
                .UseEntityFrameworkCoreNewStore<LegacyCustomer, Customer, CustomerDb, string>(db => db.Customers)
                .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, CustomerDb>()
                // One process owns these files: an in-process lock is enough.
                .UseInMemoryLock();
            migration.Services.AddSingleton<ILegacyWrites, RecordedByTheLegacyCode>();
        }

        public override async Task<long> CountMigratedAsync(
            IServiceProvider services,
            CancellationToken cancellationToken
        )
        {
            await using CustomerDb customers = await services
                .GetRequiredService<IDbContextFactory<CustomerDb>>()
                .CreateDbContextAsync(cancellationToken);
            return await customers.Customers.LongCountAsync(cancellationToken);
        }

        public override ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            return ValueTask.CompletedTask;
        }

        private string ConnectionString(string file) =>
            new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, file), Pooling = true }.ToString();
    }

    /// <summary>
    /// The legacy table, the new store's document table and the outbox in one schema of one PostgreSQL database. The
    /// capture trigger on the legacy table records every old-API write in the write's own transaction.
    /// </summary>
    private sealed class PostgresDatabase : ServiceDatabase
    {
        /// <summary>The schema the service owns: <c>--reset</c> drops it, nothing else is touched.</summary>
        private const string Schema = "lazymigrate_webservice";

        private readonly NpgsqlDataSource _dataSource;
        private readonly string _host;
        private readonly string _where;

        public PostgresDatabase(string connectionString)
        {
            _dataSource = NpgsqlDataSource.Create(connectionString);
            var settings = new NpgsqlConnectionStringBuilder(connectionString);
            _host = settings.Host ?? "localhost";
            // Npgsql connects to the database named after the user when none is given.
            _where =
                $"host {_host}, port {settings.Port}, database {settings.Database ?? settings.Username ?? "(none)"}";
            Legacy = LegacyTable.OnPostgres(_dataSource.CreateConnection, Schema);
        }

        public override string Description => $"PostgreSQL {_host}, schema {Schema}";

        /// <summary>
        /// Any Npgsql failure of the start: the server's own message when it answered (a missing database, a refused
        /// login), the client's and its cause otherwise (a refused connection, a timeout). Neither holds the password.
        /// </summary>
        public override string? Unusable(Exception exception) =>
            exception switch
            {
                PostgresException answered => $"PostgreSQL at {_where}: {answered.MessageText}",
                NpgsqlException failed => $"PostgreSQL at {_where} cannot be reached: {failed.Message}"
                    + (failed.InnerException is { } cause ? $" ({cause.Message})" : ""),
                _ => null,
            };

        public override LegacyTable Legacy { get; }

        private static PostgreSqlDocumentStoreOptions NewStore => new() { Schema = Schema, TableName = "customers" };

        private static PostgreSqlOutboxOptions Outbox => new() { Schema = Schema };

        public override async Task<bool> PrepareAsync(int records, bool reset)
        {
            await using (
                NpgsqlCommand schema = _dataSource.CreateCommand(
                    (reset ? $"DROP SCHEMA IF EXISTS {Schema} CASCADE; " : "")
                        + $"CREATE SCHEMA IF NOT EXISTS {Schema}; "
                        + $"SELECT to_regclass('{Schema}.{LegacyTable.Name}') IS NULL"
                )
            )
            {
                bool seed = (bool)(await schema.ExecuteScalarAsync())!;
                if (seed)
                {
                    await Legacy.CreateAsync(records);
                }

                await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(_dataSource, NewStore);
                await PostgreSqlOutboxSchema.CreateAsync(_dataSource, Outbox);
                // Behind a legacy transaction that holds the table past LockTimeout (5 s), this throws
                // TimeoutException rather than stall the legacy writes: a service sharing its legacy table would
                // retry later; this one owns its schema, so it fails its start instead.
                await PostgreSqlForwardSyncTrigger.CreateAsync(
                    _dataSource,
                    new PostgreSqlForwardSyncTriggerOptions
                    {
                        LegacySchema = Schema,
                        LegacyTable = LegacyTable.Name,
                        Migration = Migration,
                        OutboxSchema = Schema,
                        // The legacy write also marks the new store's row stale: the next v2 read syncs it at once.
                        NewStoreSchema = Schema,
                        NewStoreTable = NewStore.TableName,
                    }
                );
                return seed;
            }
        }

        public override void Configure(ILazyMigrationBuilder<LegacyCustomer, Customer> migration)
        {
            migration
                .UsePostgreSqlTableOldStore(
                    o =>
                    {
                        o.Schema = Schema;
                        o.TableName = LegacyTable.Name;
                        // LegacyCustomer has no id member to infer the key's type from.
                        o.KeyType = PostgreSqlKeyType.Integer;
                    },
                    _dataSource
                )
                .UsePostgreSqlNewStore(
                    o => (o.Schema, o.TableName) = (NewStore.Schema, NewStore.TableName),
                    _dataSource
                )
                .UsePostgreSqlOutbox(o => o.Schema = Schema, _dataSource)
                .UsePostgreSqlAdvisoryLock(dataSource: _dataSource);
            migration.Services.AddSingleton<ILegacyWrites, CapturedByTrigger>();
        }

        public override async Task<long> CountMigratedAsync(
            IServiceProvider services,
            CancellationToken cancellationToken
        )
        {
            await using NpgsqlCommand count = _dataSource.CreateCommand(
                $"SELECT count(*) FROM {Schema}.customers WHERE NOT deleted"
            );
            return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
    }
}
