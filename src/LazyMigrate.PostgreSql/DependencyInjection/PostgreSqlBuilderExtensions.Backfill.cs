using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql;

public static partial class PostgreSqlBuilderExtensions
{
    /// <summary>
    /// Keeps the migration's backfill checkpoint, lease and quarantine in PostgreSQL
    /// (<see cref="PostgreSqlBackfillCheckpointStore"/>), over the data source of the migration's PostgreSQL new store
    /// unless one is given, else the container's: every instance then shares one backfill.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the tables, if given.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the new store's (or the container's);
    /// the store does not dispose it.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">A schema or table name is invalid (when the store is built).</exception>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlBackfillCheckpoints<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlBackfillCheckpointOptions>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        string migration = builder.Name;
        var options = new PostgreSqlBackfillCheckpointOptions();
        configure?.Invoke(options);
        PostgreSqlStartupChecks.Add(
            builder.Services,
            new PostgreSqlBackfillStartupCheck(migration, options.CheckOnStart)
        );
        return builder.UseBackfillCheckpointStore(sp => new PostgreSqlBackfillCheckpointStore(
            dataSource ?? NewStoreDataSourceOf(sp, migration) ?? DataSourceFrom(sp),
            options,
            sp.GetService<ILoggerFactory>()
        ));
    }
}
