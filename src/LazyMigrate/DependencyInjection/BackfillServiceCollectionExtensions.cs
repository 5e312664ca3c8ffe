using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate;

/// <summary>Runs the backfills of every migration in the host.</summary>
public static class BackfillServiceCollectionExtensions
{
    /// <summary>
    /// Adds a hosted service that runs the backfill of every migration in the container until it is complete,
    /// resuming from its checkpoint after a failure or a restart. Run it on every instance: the checkpoint store's
    /// lease lets one advance the backfill at a time, and another take over when it stops.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLazyMigrationBackfill(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BackfillService>());
        return services;
    }
}
