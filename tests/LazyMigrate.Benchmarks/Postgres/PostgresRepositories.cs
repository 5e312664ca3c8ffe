using LazyMigrate.DistributedLock;
using LazyMigrate.PostgreSql;
using Medallion.Threading.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>The ways of locking a migration that the PostgreSQL benchmarks compare.</summary>
public enum LockChoice
{
    /// <summary>No lock: insert-if-absent alone.</summary>
    None,

    /// <summary>The adapter's session advisory lock, on a connection of its own.</summary>
    AdvisoryLock,

    /// <summary>DistributedLock.Postgres through LazyMigrate.DistributedLock.</summary>
    DistributedLock,

    /// <summary>
    /// The new store's own transaction-scoped lock: lock and re-check in one batch, insert and unlock in another.
    /// </summary>
    NewStoreLock,
}

/// <summary>Builds repositories over the benchmark tables exactly as a user would, with DI.</summary>
internal static class PostgresRepositories
{
    public static async Task<(
        ServiceProvider Services,
        IMigratingRepository<OldProfile, NewProfile> Repository
    )> BuildAsync(
        PostgresBench bench,
        LockChoice locking,
        Action<ILazyMigrationBuilder<OldProfile, NewProfile>>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
    {
        dataSource ??= bench.DataSource;
        var services = new ServiceCollection();
        var builder = services
            .AddLazyMigration<OldProfile, NewProfile>(o => o.UseLock = locking != LockChoice.None)
            .UseMapper(NewProfile.From)
            .UsePostgreSqlOldStore(
                o =>
                {
                    o.TableName = PostgresBench.OldTable;
                    o.CreateSchema = true;
                },
                dataSource
            )
            .UsePostgreSqlNewStore(
                o =>
                {
                    o.TableName = PostgresBench.NewTable;
                    o.CreateSchema = true;
                },
                dataSource
            );
        switch (locking)
        {
            case LockChoice.AdvisoryLock:
                builder.UsePostgreSqlAdvisoryLock(dataSource: dataSource);
                break;
            case LockChoice.DistributedLock:
                builder.UseDistributedLock(new PostgresDistributedSynchronizationProvider(dataSource.ConnectionString));
                break;
            case LockChoice.NewStoreLock:
                builder.UseNewStoreLock();
                break;
        }

        configure?.Invoke(builder);
        ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<OldProfile, NewProfile>>();

        // The first call creates both tables (CreateSchema); the benchmarks then never pay for it.
        await repository.MigrateAsync("warm-up");
        return (provider, repository);
    }
}
