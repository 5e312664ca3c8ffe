using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate;

/// <summary>Gives a migration its outbox and configures its dispatcher.</summary>
public static class OutboxBuilderExtensions
{
    /// <summary>
    /// Uses <paramref name="outbox"/> as the migration's outbox: write-backs and events are recorded there and its
    /// dispatchers apply them. Adapter packages add their own (<c>UsePostgreSqlOutbox</c>,
    /// <c>UseEntityFrameworkCoreOutbox</c>), which the new store writes atomically with its changes.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="outbox">The outbox.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseOutbox<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IMigrationOutbox outbox
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(outbox);
        return builder.UseOutbox(_ => outbox);
    }

    /// <summary>Uses the outbox the factory builds (a singleton keyed by the migration name).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the outbox from the container.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseOutbox<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IMigrationOutbox> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        MigrationServices.Replace(builder.Services, builder.Name, factory);
        return builder;
    }

    /// <summary>Configures how the migration's dispatcher applies its outbox.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> ConfigureOutbox<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<OutboxOptions> configure
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
