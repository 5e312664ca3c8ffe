using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql;

public static partial class PostgreSqlBuilderExtensions
{
    /// <summary>
    /// Uses a <see cref="PostgreSqlTableOldStore{TOld}"/> as the old store: an existing table with typed columns, over
    /// the container's <see cref="NpgsqlDataSource"/> unless one is given. The options are validated, and the table
    /// checked (<see cref="PostgreSqlTableStoreOptions{TOld}.CheckOnStart"/>), when the host starts.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the store options: at least
    /// <see cref="PostgreSqlTableStoreOptions{TOld}.TableName"/>.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the container's; the store does not
    /// dispose it.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlTableOldStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlTableStoreOptions<TOld>> configure,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        string name = OptionsName(builder.Name, MigrationRole.OldStore);
        OptionsBuilder<PostgreSqlTableStoreOptions<TOld>> options = builder.Services.AddOptions<
            PostgreSqlTableStoreOptions<TOld>
        >(name);
        options.Configure(o => o.DataSourceFromContainer = dataSource is null);
        options.Configure(configure);
        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<
                IValidateOptions<PostgreSqlTableStoreOptions<TOld>>,
                PostgreSqlTableStoreOptionsValidator<TOld>
            >()
        );
        PostgreSqlStartupChecks.Add(
            builder.Services,
            new PostgreSqlTableStoreStartupCheck<TOld>(
                builder.Name,
                name,
                dataSource,
                sp => sp.GetRequiredKeyedService<IOldStore<TOld>>(builder.Name) is PostgreSqlTableOldStore<TOld>
            )
        );
        return builder.UseOldStore(sp => new PostgreSqlTableOldStore<TOld>(
            dataSource ?? DataSourceFrom(sp),
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlTableStoreOptions<TOld>>>().Get(name),
            sp.GetService<ILoggerFactory>()
        ));
    }
}
