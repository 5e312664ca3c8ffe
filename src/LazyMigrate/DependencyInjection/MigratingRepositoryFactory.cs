using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LazyMigrate;

/// <summary>Builds a repository from the container: resolves (and so validates) the options, then wires the parts.</summary>
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
        ILogger logger = (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("LazyMigrate.MigratingRepository");
        IMigrationLockProvider? lockProvider = options.UseLock && !options.LockInNewStore
            ? services.GetKeyedService<IMigrationLockProvider>(name) ?? services.GetRequiredService<IMigrationLockProvider>()
            : null;
        INewStore<TNew> newStore = services.GetRequiredService<INewStore<TNew>>();
        if (options.UseLock && options.LockInNewStore && newStore is not ILockingNewStore<TNew>)
        {
            throw new InvalidOperationException($"Migration '{name}': LockInNewStore needs a new store that implements ILockingNewStore<{typeof(TNew).Name}>; {newStore.GetType().Name} does not.");
        }

        var context = new MigrationContext<TOld, TNew>
        {
            Name = name,
            Options = options,
            Stores = new ResilientStores<TOld, TNew>(
                name,
                services.GetRequiredService<IOldStore<TOld>>(),
                newStore,
                lockProvider,
                new MigrationPipelines(options, timeProvider)),
            Mapper = services.GetRequiredService<IMigrationMapper<TOld, TNew>>(),
            ReverseMapper = services.GetService<IReverseMigrationMapper<TOld, TNew>>(),
            Events = new EventPublisher<TOld, TNew>(name, services.GetServices<IEntityMigratedHandler<TOld, TNew>>().ToArray(), timeProvider, metrics, logger),
            NegativeCache = new NegativeCache(services.GetService<IMemoryCache>(), name, options.NegativeCacheDuration, timeProvider),
            Metrics = metrics,
            TimeProvider = timeProvider,
            Logger = logger,
        };

        return new MigratingRepository<TOld, TNew>(context, CreateWritePath(context));
    }

    private static IWritePath<TNew> CreateWritePath<TOld, TNew>(MigrationContext<TOld, TNew> context)
        where TOld : class
        where TNew : class => context.Options.WriteBackMode switch
        {
            WriteBackMode.None => new NewStoreOnlyWritePath<TOld, TNew>(context.Stores),
            WriteBackMode.Sync => new SyncWriteBackPath<TOld, TNew>(context, context.ReverseMapper!),
            _ => throw new InvalidOperationException($"Migration '{context.Name}': WriteBackMode.{context.Options.WriteBackMode} is not available in this version."),
        };
}
