using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LazyMigrate.Internal;

/// <summary>
/// Where a migration's parts live in the container: keyed by the migration name, so that two migrations sharing an
/// entity type never share or override each other's store, mapper, lock or handlers. A migration looks for its keyed
/// part first and falls back to the unkeyed service, the container-wide default (a mapper from
/// <c>AddMigrationMapper</c>, an <see cref="IMigrationLockProvider"/> for every migration); handlers are both.
/// </summary>
internal static class MigrationServices
{
    /// <summary>
    /// Makes the store, lock or handler that <paramref name="factory"/> builds this migration's only one (a singleton).
    /// </summary>
    public static void Replace<TService>(
        IServiceCollection services,
        string migration,
        Func<IServiceProvider, TService> factory
    )
        where TService : class
    {
        services.RemoveAllKeyed<TService>(migration);
        services.AddKeyedSingleton(migration, (sp, _) => factory(sp));
    }

    /// <summary>
    /// Makes <paramref name="instance"/> this migration's only <typeparamref name="TService"/>, not disposed by the
    /// container.
    /// </summary>
    public static void Replace<TService>(IServiceCollection services, string migration, TService instance)
        where TService : class
    {
        services.RemoveAllKeyed<TService>(migration);
        services.AddKeyedSingleton(migration, instance);
    }

    /// <summary>
    /// Makes <paramref name="instance"/>, a reverse mapper or a reverse merger, this migration's one reverse mapping:
    /// the two are one part, so the last of <c>UseReverseMapper</c> and <c>UseReverseMerger</c> wins.
    /// </summary>
    public static void ReplaceReverseMapping<TOld, TNew, TService>(
        IServiceCollection services,
        string migration,
        TService instance
    )
        where TOld : class
        where TNew : class
        where TService : class
    {
        services.RemoveAllKeyed<IReverseMigrationMapper<TOld, TNew>>(migration);
        services.RemoveAllKeyed<IReverseMigrationMerger<TOld, TNew>>(migration);
        services.AddKeyedSingleton(migration, instance);
    }

    /// <summary>Gets the migration's own part, else the container-wide one, else <see langword="null"/>.</summary>
    public static TService? Find<TService>(IServiceProvider services, string migration)
        where TService : class => FindOwn<TService>(services, migration) ?? FindShared<TService>(services);

    /// <summary>Gets the migration's own part (keyed by its name), else <see langword="null"/>.</summary>
    public static TService? FindOwn<TService>(IServiceProvider services, string migration)
        where TService : class => services.GetKeyedService<TService>(migration);

    /// <summary>Gets the container-wide part (unkeyed), else <see langword="null"/>.</summary>
    public static TService? FindShared<TService>(IServiceProvider services)
        where TService : class => services.GetService<TService>();

    /// <summary>
    /// Gets the migration's own part, else the container-wide one; start-up validation has made sure there is one.
    /// </summary>
    public static TService Get<TService>(IServiceProvider services, string migration)
        where TService : class =>
        Find<TService>(services, migration)
        ?? throw new InvalidOperationException(
            $"Migration '{migration}': no {typeof(TService).Name} is registered, for it or for the whole container."
        );

    /// <summary>
    /// Gets the migration's own services of a type, then the container-wide ones: every event handler is called.
    /// </summary>
    public static IEnumerable<TService> All<TService>(IServiceProvider services, string migration)
        where TService : class =>
        services.GetKeyedServices<TService>(migration).Concat(services.GetServices<TService>());

    /// <summary>Tells whether <see cref="Find{TService}"/> would find a service, without building one.</summary>
    public static bool IsRegistered(IServiceProviderIsService services, Type serviceType, string migration) =>
        (services is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(serviceType, migration))
        || services.IsService(serviceType);
}
