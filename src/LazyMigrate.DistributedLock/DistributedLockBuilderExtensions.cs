using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.DistributedLock;

/// <summary>Takes a migration's locks through DistributedLock's <see cref="IDistributedLockProvider"/>.</summary>
public static class DistributedLockBuilderExtensions
{
    /// <summary>
    /// Locks this migration's entities through the container's <see cref="IDistributedLockProvider"/>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The provider is resolved when the migration is first built; a container without one fails then, saying
    /// so.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseDistributedLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder
    )
        where TOld : class
        where TNew : class =>
        builder.UseDistributedLock(static services =>
            services.GetService<IDistributedLockProvider>()
            ?? throw new InvalidOperationException(
                $"UseDistributedLock() found no {nameof(IDistributedLockProvider)} in the container. "
                    + "Register one, for example "
                    + $"services.AddSingleton<{nameof(IDistributedLockProvider)}>"
                    + "(new PostgresDistributedSynchronizationProvider(connectionString)), "
                    + "or pass one to UseDistributedLock(provider)."
            )
        );

    /// <summary>Locks this migration's entities through <paramref name="provider"/>.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="provider">The DistributedLock provider, shared by every instance's container that should exclude
    /// each other.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseDistributedLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        IDistributedLockProvider provider
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(provider);
        return builder.UseLock(new DistributedLockMigrationLockProvider(provider));
    }

    /// <summary>Locks this migration's entities through the provider the factory builds (once, a singleton).</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="factory">Builds the DistributedLock provider from the container.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseDistributedLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<IServiceProvider, IDistributedLockProvider> factory
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        return builder.UseLock(services => new DistributedLockMigrationLockProvider(
            factory(services)
                ?? throw new InvalidOperationException(
                    $"The factory given to UseDistributedLock returned no {nameof(IDistributedLockProvider)}."
                )
        ));
    }
}
