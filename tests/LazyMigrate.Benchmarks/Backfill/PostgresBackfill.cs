using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>The ways of running the LazyMigrate backfill that the PostgreSQL benchmarks compare.</summary>
public enum BackfillChoice
{
    /// <summary>The default lock (the new store's own, as no lock provider is registered), batches of 1,000.</summary>
    DefaultLock,

    /// <summary><c>UseLock = false</c>: insert-if-absent alone, batches of 1,000.</summary>
    WithoutLock,

    /// <summary>The adapter's advisory lock provider (<c>UsePostgreSqlAdvisoryLock</c>), batches of 1,000.</summary>
    AdvisoryLock,

    /// <summary>The default lock and the default backfill options (adaptive batch size, 500 ms a batch).</summary>
    DefaultOptions,
}

/// <summary>
/// The PostgreSQL side of the backfill benchmarks: a legacy table of typed columns (<see cref="LegacyCustomers"/>)
/// read by <see cref="PostgreSqlTableOldStore{TOld}"/>, a <see cref="PostgreSqlNewStore{TNew}"/> document table of
/// the same database, and the migration built through DI as a user builds it.
/// </summary>
internal static class PostgresBackfill
{
    public const string NewTable = "backfilled_customers";

    /// <summary>Builds a container whose backfill starts from no checkpoint (the in-memory checkpoint store).</summary>
    public static ServiceProvider Build(NpgsqlDataSource dataSource, BackfillChoice choice)
    {
        var services = new ServiceCollection();
        var builder = services
            .AddLazyMigration<LegacyCustomer, BackfilledCustomer>(o => o.UseLock = choice != BackfillChoice.WithoutLock)
            .UseMapper(BackfilledCustomer.From)
            .UsePostgreSqlTableOldStore(o => o.TableName = LegacyCustomers.Table, dataSource)
            .UsePostgreSqlNewStore(
                o =>
                {
                    o.TableName = NewTable;
                    o.CreateSchema = true;
                },
                dataSource
            );
        if (choice == BackfillChoice.AdvisoryLock)
        {
            builder.UsePostgreSqlAdvisoryLock(dataSource: dataSource);
        }

        if (choice != BackfillChoice.DefaultOptions)
        {
            builder.ConfigureBackfill(o =>
            {
                o.InitialBatchSize = HandWrittenBackfill.BatchSize;
                o.TargetBatchDuration = TimeSpan.Zero;
            });
        }

        return services.BuildServiceProvider();
    }

    public static IBackfillRunner<LegacyCustomer, BackfilledCustomer> Runner(IServiceProvider services) =>
        services.GetRequiredService<IBackfillRunner<LegacyCustomer, BackfilledCustomer>>();

    /// <summary>Creates the new table (through a first migration) and empties it.</summary>
    public static async Task CreateNewTableAsync(NpgsqlDataSource dataSource)
    {
        await using ServiceProvider services = Build(dataSource, BackfillChoice.WithoutLock);
        await services.GetRequiredService<IMigratingRepository<LegacyCustomer, BackfilledCustomer>>().MigrateAsync("1");
        await TruncateAsync(dataSource);
    }

    public static async Task TruncateAsync(NpgsqlDataSource dataSource)
    {
        await using NpgsqlCommand truncate = dataSource.CreateCommand($"TRUNCATE {NewTable}");
        await truncate.ExecuteNonQueryAsync();
    }

    /// <summary>Throws unless the new table holds exactly <paramref name="rows"/> rows.</summary>
    public static void CheckCount(NpgsqlDataSource dataSource, int rows)
    {
        using NpgsqlCommand count = dataSource.CreateCommand($"SELECT count(*) FROM {NewTable} WHERE NOT deleted");
        long migrated = (long)count.ExecuteScalar()!;
        if (migrated != rows)
        {
            throw new InvalidOperationException($"{migrated} of {rows} legacy rows reached {NewTable}.");
        }
    }
}
