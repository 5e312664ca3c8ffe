using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>
/// Builds a migration from the container: resolves (and so validates) the options, then wires the parts registered
/// for the migration (keyed by its name, else the container's, see <see cref="MigrationServices"/>) into its
/// repository and its dispatcher, which share them.
/// </summary>
internal static class MigratingRepositoryFactory
{
    public static MigrationRuntime<TOld, TNew> Create<TOld, TNew>(IServiceProvider services)
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

        IMigrationOutbox? registeredOutbox = MigrationServices.FindOwn<IMigrationOutbox>(services, name);
        IEntityMigratedHandler<TOld, TNew>[] handlers =
        [
            .. MigrationServices.All<IEntityMigratedHandler<TOld, TNew>>(services, name),
        ];
        var outbox = new OutboxContext
        {
            Options = services.GetRequiredService<IOptionsMonitor<OutboxOptions>>().Get(name),
            HasHandlers = handlers.Length > 0,
            IsRegistered = registeredOutbox is not null,
        };
        IMigrationMapper<TOld, TNew> mapper = MigrationServices.Get<IMigrationMapper<TOld, TNew>>(services, name);
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
                new MigrationPipelines(options, timeProvider),
                // Without an outbox of its own, a migration delivers its events through one in memory, in process.
                registeredOutbox ?? new InMemoryOutbox()
            ),
            Mapper = mapper,
            ReverseMapping = ReverseMapping<TOld, TNew>.Find(services, name),
            ForwardMapping = ForwardMapping<TOld, TNew>.Find(services, name, mapper),
            Outbox = outbox,
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

        WriteBackApplier<TOld, TNew>? applier = context.ReverseMapping is { } reverse
            ? new WriteBackApplier<TOld, TNew>(context, reverse)
            : null;
        var forwardSync = new ForwardSyncApplier<TOld, TNew>(context, context.ForwardMapping);
        var dispatcher = new MigrationDispatcher<TOld, TNew>(
            context,
            applier,
            forwardSync,
            new EventDelivery<TOld, TNew>(handlers, timeProvider)
        );
        outbox.Wake = dispatcher.Wake;
        IWritePath<TNew> writePath =
            options.WriteBackMode == WriteBackMode.None
                ? new NewStoreOnlyWritePath<TOld, TNew>(context.Stores)
                : new OutboxWritePath<TOld, TNew>(context, context.ReverseMapping!, applier!);

        // A forward sync reads the new store and writes it under the entity's lock: a save must hold the lock too, or
        // it could land between the two and be overwritten. Sync write-back takes it already.
        if (options.ForwardSync && options.WriteBackMode != WriteBackMode.Sync)
        {
            writePath = new LockedWritePath<TOld, TNew>(context, writePath);
        }

        // One migrator for reads and the backfill: a read and a batch that want one id share its flight.
        var migrator = new EntityMigrator<TOld, TNew>(context);
        return new MigrationRuntime<TOld, TNew>(
            new MigratingRepository<TOld, TNew>(
                context,
                migrator,
                writePath,
                new StaleReadSync<TOld, TNew>(context, forwardSync)
            ),
            dispatcher,
            new OldStoreChangeRecorder<TOld, TNew>(context),
            CreateBackfill(services, context, migrator)
        );
    }

    private static BackfillRunner<TOld, TNew> CreateBackfill<TOld, TNew>(
        IServiceProvider services,
        MigrationContext<TOld, TNew> context,
        EntityMigrator<TOld, TNew> migrator
    )
        where TOld : class
        where TNew : class
    {
        BackfillOptions options = services.GetRequiredService<IOptionsMonitor<BackfillOptions>>().Get(context.Name);
        return new BackfillRunner<TOld, TNew>(
            context,
            migrator,
            MigrationServices.Get<IOldStore<TOld>>(services, context.Name),
            // Without a store of its own, the backfill's progress lasts as long as the process.
            MigrationServices.Find<IBackfillCheckpointStore>(services, context.Name)
                ?? new InMemoryBackfillCheckpointStore(),
            options,
            new BackfillPacer(
                context.Name,
                options,
                MigrationServices.Find<IBackfillThrottle>(services, context.Name),
                context.TimeProvider,
                context.Logger
            )
        );
    }
}
