using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>
/// Builds a repository from the container: resolves (and so validates) the options, then wires the parts registered
/// for the migration (keyed by its name, else the container's, see <see cref="MigrationServices"/>).
/// </summary>
internal static class MigratingRepositoryFactory
{
    public static IMigratingRepository<TOld, TNew> Create<TOld, TNew>(IServiceProvider services)
        where TOld : class
        where TNew : class
    {
        string name = services.GetRequiredService<MigrationDescriptor<TOld, TNew>>().Name;
        LazyMigrationOptions options = services.GetRequiredService<IOptionsMonitor<LazyMigrationOptions>>().Get(name);
        TimeProvider timeProvider = services.GetRequiredService<TimeProvider>();
        MigrationMetrics metrics = services.GetRequiredService<MigrationMetrics>();
        ILogger logger = (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(
            "LazyMigrate.MigratingRepository"
        );
        INewStore<TNew> newStore = MigrationServices.Get<INewStore<TNew>>(services, name);
        bool hasLockProvider = MigrationServices.IsRegistered(
            services.GetRequiredService<IServiceProviderIsService>(),
            typeof(IMigrationLockProvider),
            name
        );
        MigrationLockKind lockKind = MigrationLockChoice.Choose(
            options,
            hasLockProvider,
            newStore,
            out string? problem
        );
        if (problem is not null)
        {
            throw new InvalidOperationException($"Migration '{name}': {problem}");
        }

        // The new store's lock chosen by default reaches the migration as if UseNewStoreLock had asked for it.
        if (lockKind == MigrationLockKind.NewStore && !options.LockInNewStore)
        {
            options = options.WithLockInNewStore();
        }

        var context = new MigrationContext<TOld, TNew>
        {
            Name = name,
            Options = options,
            Stores = new ResilientStores<TOld, TNew>(
                name,
                MigrationServices.Get<IOldStore<TOld>>(services, name),
                newStore,
                lockKind == MigrationLockKind.Provider
                    ? MigrationServices.Get<IMigrationLockProvider>(services, name)
                    : null,
                new MigrationPipelines(options, timeProvider)
            ),
            Mapper = MigrationServices.Get<IMigrationMapper<TOld, TNew>>(services, name),
            ReverseMapping = ReverseMapping<TOld, TNew>.Find(services, name),
            Events = new EventPublisher<TOld, TNew>(
                name,
                MigrationServices.All<IEntityMigratedHandler<TOld, TNew>>(services, name).ToArray(),
                timeProvider,
                metrics,
                logger
            ),
            NegativeCache = new NegativeCache(
                services.GetService<IMemoryCache>(),
                name,
                options.NegativeCacheDuration,
                timeProvider
            ),
            Metrics = metrics,
            TimeProvider = timeProvider,
            Logger = logger,
        };

        return new MigratingRepository<TOld, TNew>(context, CreateWritePath(context));
    }

    private static IWritePath<TNew> CreateWritePath<TOld, TNew>(MigrationContext<TOld, TNew> context)
        where TOld : class
        where TNew : class =>
        context.Options.WriteBackMode switch
        {
            WriteBackMode.None => new NewStoreOnlyWritePath<TOld, TNew>(context.Stores),
            WriteBackMode.Sync => new SyncWriteBackPath<TOld, TNew>(context, context.ReverseMapping!),
            _ => throw new InvalidOperationException(
                $"Migration '{context.Name}': WriteBackMode.{context.Options.WriteBackMode} "
                    + "is not available in this version."
            ),
        };
}
