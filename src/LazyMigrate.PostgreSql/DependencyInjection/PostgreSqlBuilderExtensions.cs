using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The <c>Use...</c> methods of LazyMigrate.PostgreSql for <see cref="ILazyMigrationBuilder{TOld, TNew}"/>.
/// </summary>
public static partial class PostgreSqlBuilderExtensions
{
    /// <summary>
    /// Uses a <see cref="PostgreSqlNewStore{TNew}"/> as the new store, over the container's <see
    /// cref="NpgsqlDataSource"/> unless one is given. With a PostgreSQL outbox on the same database (<see
    /// cref="UsePostgreSqlOutbox"/>, before or after this call), the store is a <see
    /// cref="PostgreSqlOutboxNewStore{TNew}"/> writing into it.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the store options, if given; they are validated at start-up.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the container's; the store does not
    /// dispose it.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlNewStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlDocumentStoreOptions>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        string name = AddStoreOptions(
            builder,
            MigrationRole.NewStore,
            typeof(TNew),
            dataSource,
            configure,
            sp =>
                sp.GetRequiredKeyedService<INewStore<TNew>>(builder.Name)
                    is PostgreSqlNewStore<TNew>
                        or PostgreSqlOutboxNewStore<TNew>
        );
        builder.Services.RemoveAllKeyed<NewStoreDataSource>(builder.Name);
        builder.Services.AddKeyedSingleton(builder.Name, new NewStoreDataSource(dataSource));
        return builder.UseNewStore(sp =>
        {
            NpgsqlDataSource source = dataSource ?? DataSourceFrom(sp);
            PostgreSqlDocumentStoreOptions options = StoreOptions(sp, name);
            var loggerFactory = sp.GetService<ILoggerFactory>();

            // The store records intents with its writes only into an outbox its own statements can reach.
            if (
                sp.GetKeyedService<IMigrationOutbox>(builder.Name) is not PostgreSqlOutbox outbox
                || !outbox.SharesDatabaseWith(source)
            )
            {
                return new PostgreSqlNewStore<TNew>(source, options, loggerFactory);
            }

            // An Async save never completes its own item, so its write-back can wait in its row for the outbox. Asked
            // at each write and read, not now: the migration's options are not built yet (their validation builds
            // this store); the options monitor caches them.
            var store = new PostgreSqlOutboxNewStore<TNew>(source, outbox, options, loggerFactory);
            var migrationOptions = sp.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>();
            store.MarkWriteBacksOf(
                builder.Name,
                () => migrationOptions.Get(builder.Name).WriteBackMode == WriteBackMode.Async
            );
            return store;
        });
    }

    /// <summary>
    /// Uses a <see cref="PostgreSqlOldStore{TOld}"/> as the old store, over the container's <see
    /// cref="NpgsqlDataSource"/> unless one is given.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the store options, if given; they are validated at start-up.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the container's; the store does not
    /// dispose it.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlOldStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlDocumentStoreOptions>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        string name = AddStoreOptions(
            builder,
            MigrationRole.OldStore,
            typeof(TOld),
            dataSource,
            configure,
            sp => sp.GetRequiredKeyedService<IOldStore<TOld>>(builder.Name) is PostgreSqlOldStore<TOld>
        );
        return builder.UseOldStore(sp => new PostgreSqlOldStore<TOld>(
            dataSource ?? DataSourceFrom(sp),
            StoreOptions(sp, name),
            sp.GetService<ILoggerFactory>()
        ));
    }

    /// <summary>
    /// Uses PostgreSQL advisory locks (<see cref="PostgreSqlAdvisoryLockProvider"/>) for this migration, over the
    /// container's <see cref="NpgsqlDataSource"/> unless one is given.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the lock options, if given; they are validated at start-up.</param>
    /// <param name="dataSource">The data source, or <see langword="null"/> for the container's; the provider does not
    /// dispose it.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UsePostgreSqlAdvisoryLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<PostgreSqlAdvisoryLockOptions>? configure = null,
        NpgsqlDataSource? dataSource = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = OptionsName(builder.Name, MigrationRole.Lock);
        OptionsBuilder<PostgreSqlAdvisoryLockOptions> options =
            builder.Services.AddOptions<PostgreSqlAdvisoryLockOptions>(name);
        options.Configure(o => o.DataSourceFromContainer = dataSource is null);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<
                IValidateOptions<PostgreSqlAdvisoryLockOptions>,
                PostgreSqlAdvisoryLockOptionsValidator
            >()
        );
        return builder.UseLock(sp => new PostgreSqlAdvisoryLockProvider(
            dataSource ?? DataSourceFrom(sp),
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlAdvisoryLockOptions>>().Get(name),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()
        ));
    }

    private static string AddStoreOptions<TOld, TNew>(
        ILazyMigrationBuilder<TOld, TNew> builder,
        MigrationRole role,
        Type entityType,
        NpgsqlDataSource? dataSource,
        Action<PostgreSqlDocumentStoreOptions>? configure,
        Func<IServiceProvider, bool> isInUse
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = OptionsName(builder.Name, role);
        OptionsBuilder<PostgreSqlDocumentStoreOptions> options =
            builder.Services.AddOptions<PostgreSqlDocumentStoreOptions>(name);
        options.Configure(o => o.DataSourceFromContainer = dataSource is null);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<
                IValidateOptions<PostgreSqlDocumentStoreOptions>,
                PostgreSqlDocumentStoreOptionsValidator
            >()
        );
        PostgreSqlStartupChecks.Add(
            builder.Services,
            new PostgreSqlStoreStartupCheck(builder.Name, role, name, entityType, dataSource, isInUse)
        );
        return name;
    }

    /// <summary>
    /// Names the options of one role of one migration: <c>{migration}:{role}</c>, for example
    /// <c>LegacyCustomer-&gt;Customer:NewStore</c>.
    /// </summary>
    private static string OptionsName(string migration, MigrationRole role) => $"{migration}:{role}";

    /// <summary>The data source a migration's PostgreSQL new store was given, if any: the outbox's default.</summary>
    private sealed record NewStoreDataSource(NpgsqlDataSource? DataSource);

    private static PostgreSqlDocumentStoreOptions StoreOptions(IServiceProvider services, string name) =>
        services.GetRequiredService<IOptionsMonitor<PostgreSqlDocumentStoreOptions>>().Get(name);

    private static NpgsqlDataSource DataSourceFrom(IServiceProvider services) =>
        services.GetService<NpgsqlDataSource>()
        ?? throw new InvalidOperationException(
            "LazyMigrate.PostgreSql needs an NpgsqlDataSource in the container: register one (for example "
                + "services.AddNpgsqlDataSource(connectionString) from Npgsql.DependencyInjection) "
                + "or pass one to the Use method."
        );
}
