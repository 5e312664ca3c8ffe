using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate;

/// <summary>Runs the outbox dispatchers of every migration in the host.</summary>
public static class DispatcherServiceCollectionExtensions
{
    /// <summary>
    /// Adds a hosted service that runs the dispatcher of every migration in the container while the host runs: it
    /// applies what this instance and the others recorded, retries what failed when it comes due, and takes over the
    /// leases of instances that died. Run it on every instance: dispatchers need no leader.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLazyMigrationDispatcher(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OutboxDispatcherService>());
        return services;
    }
}
