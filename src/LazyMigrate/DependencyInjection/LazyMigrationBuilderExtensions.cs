using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace LazyMigrate;

/// <summary>
/// The <c>Use...</c> methods of the core package for <see cref="ILazyMigrationBuilder{TOld, TNew}"/>.
/// </summary>
/// <remarks>
/// Each registers its part for this migration only, keyed by <see cref="ILazyMigrationBuilder{TOld, TNew}.Name"/>, so
/// two migrations that share an entity type keep their own parts; the last call for a part wins. A migration without a
/// part of its own falls back to the unkeyed service of the container, if any.
/// </remarks>
public static class LazyMigrationBuilderExtensions
{
    /// <summary>Uses <paramref name="mapper"/> to map old entities to new ones, in this migration.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="mapper">The mapper. To have it built by the container, use
    /// <c>services.AddMigrationMapper&lt;TMapper&gt;()</c>.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseMapper<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IMigrationMapper<TOld, TNew> mapper
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(mapper);
        MigrationServices.Replace(builder.Services, builder.Name, mapper);
        return builder;
    }

    /// <summary>Uses a function to map old entities to new ones.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="map">The mapping function.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseMapper<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TOld, TNew> map
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(map);
        return builder.UseMapper(new DelegateMigrationMapper<TOld, TNew>(map, null));
    }

    /// <summary>Uses <paramref name="mapper"/> to map new entities back for write-back.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="mapper">The reverse mapper.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// A reverse mapper and a reverse merger are one part, the reverse mapping: this replaces a reverse merger set
    /// before (<see cref="UseReverseMerger{TOld, TNew}(ILazyMigrationBuilder{TOld, TNew},
    /// IReverseMigrationMerger{TOld, TNew})"/>).
    /// </remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseReverseMapper<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IReverseMigrationMapper<TOld, TNew> mapper
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(mapper);
        MigrationServices.ReplaceReverseMapping<TOld, TNew, IReverseMigrationMapper<TOld, TNew>>(
            builder.Services,
            builder.Name,
            mapper
        );
        return builder;
    }

    /// <summary>Uses a function to map new entities back for write-back.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="mapBack">The reverse mapping function.</param>
    /// <returns>The builder.</returns>
    /// <remarks>It replaces a reverse merger set before, as the other overload does.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseReverseMapper<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TNew, TOld> mapBack
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(mapBack);
        return builder.UseReverseMapper(new DelegateMigrationMapper<TOld, TNew>(null, mapBack));
    }

    /// <summary>
    /// Uses <paramref name="merger"/> for write-back: it builds the old store's record from the saved entity and the
    /// record the old store holds now, so fields only the old model has survive. Each save then reads the old store
    /// once more, under the entity's lock.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="merger">The reverse merger.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// A reverse mapper and a reverse merger are one part, the reverse mapping: this replaces a reverse mapper set
    /// before, and a later <c>UseReverseMapper</c> replaces it.
    /// </remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseReverseMerger<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IReverseMigrationMerger<TOld, TNew> merger
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(merger);
        MigrationServices.ReplaceReverseMapping<TOld, TNew, IReverseMigrationMerger<TOld, TNew>>(
            builder.Services,
            builder.Name,
            merger
        );
        return builder;
    }

    /// <summary>
    /// Uses a function for write-back that builds the old store's record from the saved entity and the record the
    /// old store holds now (<see langword="null"/> when it lacks one).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="mergeBack">The merge function, given the entity and the old store's current record.</param>
    /// <returns>The builder.</returns>
    /// <remarks>It replaces a reverse mapper set before, as the other overload does.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseReverseMerger<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TNew, TOld?, TOld> mergeBack
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(mergeBack);
        return builder.UseReverseMerger(new DelegateReverseMigrationMerger<TOld, TNew>(mergeBack));
    }

    /// <summary>
    /// Uses <paramref name="merger"/> for forward sync (<see cref="LazyMigrationOptions.ForwardSync"/>): it builds the
    /// new store's entity from a record written through the old API and the entity the new store holds now, so fields
    /// only the new model has survive. Without one, a forward sync maps the record with the mapper.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="merger">The merger.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseMerger<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IMigrationMerger<TOld, TNew> merger
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(merger);
        MigrationServices.Replace(builder.Services, builder.Name, merger);
        return builder;
    }

    /// <summary>
    /// Uses a function for forward sync that builds the new store's entity from the old store's current record and the
    /// entity the new store holds now.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="merge">The merge function, given the old record and the new store's current entity.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseMerger<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TOld, TNew, TNew> merge
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(merge);
        return builder.UseMerger(new DelegateMigrationMerger<TOld, TNew>(merge));
    }

    /// <summary>Uses <paramref name="store"/> as the old store.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="store">The store.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseOldStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IOldStore<TOld> store
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(store);
        return builder.UseOldStore(_ => store);
    }

    /// <summary>Uses the store the factory builds as the old store (a singleton keyed by the migration name).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the store from the container.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseOldStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IOldStore<TOld>> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        MigrationServices.Replace(builder.Services, builder.Name, factory);
        return builder;
    }

    /// <summary>Uses <paramref name="store"/> as the new store.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="store">The store.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseNewStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        INewStore<TNew> store
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(store);
        return builder.UseNewStore(_ => store);
    }

    /// <summary>Uses the store the factory builds as the new store (a singleton keyed by the migration name).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the store from the container.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseNewStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, INewStore<TNew>> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        MigrationServices.Replace(builder.Services, builder.Name, factory);
        return builder;
    }

    /// <summary>Uses the lock provider the factory builds for this migration only (a keyed singleton).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the lock provider from the container.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Without it, a migration uses the container's unkeyed <see cref="IMigrationLockProvider"/>, if any, else the new
    /// store's own locks when the store implements <see cref="ILockingNewStore{TNew}"/>.
    /// </remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IMigrationLockProvider> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        MigrationServices.Replace(builder.Services, builder.Name, factory);

        // The last lock choice wins: a provider replaces the new store's own locks.
        return builder.Configure(options => options.LockInNewStore = false);
    }

    /// <summary>Uses <paramref name="lockProvider"/> for this migration only.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="lockProvider">The lock provider.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IMigrationLockProvider lockProvider
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(lockProvider);
        return builder.UseLock(_ => lockProvider);
    }

    /// <summary>
    /// Has the new store take the migration locks itself (it must implement <see cref="ILockingNewStore{TNew}"/>),
    /// instead of a lock provider: fewer round trips per migration.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseNewStoreLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder
    )
        where TOld : class
        where TNew : class =>
        builder.Configure(options =>
        {
            options.UseLock = true;
            options.LockInNewStore = true;
        });

    /// <summary>
    /// Adds a handler of <see cref="EntityMigrated{TOld, TNew}"/> built by the container (a singleton keyed by the
    /// migration name).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the handler from the container.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Handlers registered directly (unkeyed) as <see cref="IEntityMigratedHandler{TOld, TNew}"/> singletons are called
    /// too, after these.
    /// </remarks>
    public static ILazyMigrationBuilder<TOld, TNew> AddHandler<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IEntityMigratedHandler<TOld, TNew>> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddKeyedSingleton(builder.Name, (sp, _) => factory(sp));
        return builder;
    }

    /// <summary>Calls <paramref name="onMigrated"/> for every entity this process migrates.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="onMigrated">The callback; an exception it throws is logged and counted, never rethrown.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> OnMigrated<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<EntityMigrated<TOld, TNew>, CancellationToken, ValueTask> onMigrated
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(onMigrated);
        return builder.AddHandler(_ => new DelegateEntityMigratedHandler<TOld, TNew>(onMigrated));
    }

    /// <summary>
    /// Replaces the default resilience pipeline of one role (retry of transient failures with backoff, and a timeout
    /// per attempt).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="role">The role whose calls the pipeline wraps.</param>
    /// <param name="configure">Adds strategies to an empty pipeline builder whose time provider is the
    /// container's.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseResilience<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        MigrationRole role,
        Action<ResiliencePipelineBuilder> configure
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.Configure(options =>
            options.PipelineOverrides[role] = pipelineBuilder =>
            {
                configure(pipelineBuilder);
                return pipelineBuilder.Build();
            }
        );
    }

    /// <summary>Uses <paramref name="pipeline"/> for the calls of one role.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="role">The role whose calls the pipeline wraps.</param>
    /// <param name="pipeline">
    /// The pipeline. <see cref="ResiliencePipeline.Empty"/> sends the calls straight to the store, which suits stores
    /// that never fail transiently nor hang, such as the in-memory ones.
    /// </param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseResilience<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        MigrationRole role,
        ResiliencePipeline pipeline
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return builder.Configure(options => options.PipelineOverrides[role] = _ => pipeline);
    }

    /// <summary>
    /// Remembers ids found in neither store for <paramref name="duration"/>, in the container's <c>IMemoryCache</c>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="duration">How long an absent id is remembered.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseNegativeCache<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        TimeSpan duration
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMemoryCache();
        return builder.Configure(options => options.NegativeCacheDuration = duration);
    }

    /// <summary>Configures the options of this migration.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> Configure<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<LazyMigrationOptions> configure
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }
}
