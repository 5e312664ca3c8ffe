using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql;

public static partial class PostgreSqlBuilderExtensions
{
    /// <summary>
    /// Uses a <see cref="PostgreSqlOutbox"/> as the migration's outbox, over the data source of the migration's
    /// PostgreSQL new store (<see cref="UsePostgreSqlNewStore"/>) unless one is given, else the container's. The
    /// migration's PostgreSQL new store on the same database then records every intent in the statement of its write
    /// (it is a <see cref="PostgreSqlOutboxNewStore{TNew}"/>), whichever of the two calls comes first. The options are
    /// validated, and the table checked (<see cref="PostgreSqlOutboxOptions.CheckOnStart"/>), when the host starts.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the outbox options, if given.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the new store's (or the container's);
    /// the outbox does not dispose it.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlOutbox<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlOutboxOptions>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        string migration = builder.Name;
        string name = $"{migration}:{OutboxPart}";
        OptionsBuilder<PostgreSqlOutboxOptions> options = builder.Services.AddOptions<PostgreSqlOutboxOptions>(name);
        options.Configure<IServiceProvider>(
            (o, sp) => o.DataSourceFromContainer = dataSource is null && NewStoreDataSourceOf(sp, migration) is null
        );
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlOutboxOptions>, PostgreSqlOutboxOptionsValidator>()
        );
        PostgreSqlStartupChecks.Add(builder.Services, new PostgreSqlOutboxStartupCheck(migration, name));

        return builder.UseOutbox(sp => new PostgreSqlOutbox(
            dataSource ?? NewStoreDataSourceOf(sp, migration) ?? DataSourceFrom(sp),
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlOutboxOptions>>().Get(name),
            sp.GetService<ILoggerFactory>()
        ));
    }

    /// <summary>The part the outbox is, in its options' name and its start-up check.</summary>
    private const string OutboxPart = "Outbox";

    private static NpgsqlDataSource? NewStoreDataSourceOf(IServiceProvider services, string migration) =>
        services.GetKeyedService<NewStoreDataSource>(migration)?.DataSource;
}
