using LazyMigrate.Backfill;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate;

/// <summary>Configures a migration's backfill: its options, its checkpoint store and its throttle.</summary>
public static class BackfillBuilderExtensions
{
    /// <summary>Configures the migration's backfill.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> ConfigureBackfill<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<BackfillOptions> configure
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    /// <summary>
    /// Keeps the backfill's checkpoint, lease and quarantine in <paramref name="store"/>, shared by every instance.
    /// Adapter packages add their own (<c>UsePostgreSqlBackfillCheckpoints</c>,
    /// <c>UseEntityFrameworkCoreBackfillCheckpoints</c>). Without one, the backfill keeps them in memory, for as long
    /// as the process lives.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="store">The checkpoint store.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseBackfillCheckpointStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IBackfillCheckpointStore store
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(store);
        return builder.UseBackfillCheckpointStore(_ => store);
    }

    /// <summary>Uses the checkpoint store the factory builds (a singleton keyed by the migration name).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the store from the container.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseBackfillCheckpointStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IBackfillCheckpointStore> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        MigrationServices.Replace(builder.Services, builder.Name, factory);
        return builder;
    }

    /// <summary>
    /// Asks <paramref name="throttle"/> before each batch whether the backfill may go on (for example "the old
    /// database is busy": wait and ask again).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="throttle">The throttle.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseBackfillThrottle<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IBackfillThrottle throttle
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(throttle);
        MigrationServices.Replace(builder.Services, builder.Name, throttle);
        return builder;
    }
}
