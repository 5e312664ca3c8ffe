using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Runs every registered <see cref="IStoreStartupCheck"/> when the host starts (in
/// <see cref="IHostedLifecycleService.StartingAsync"/>, after options validation and before any hosted service starts
/// serving), so that a missing table or a database that does not open fails <c>host.StartAsync()</c>, not the first
/// read.
/// </summary>
internal sealed class EntityFrameworkCoreStartupChecks(IEnumerable<IStoreStartupCheck> checks) : IHostedLifecycleService
{
    /// <summary>Registers one store's check, and this service once.</summary>
    public static void Add(IServiceCollection services, Func<IServiceProvider, IStoreStartupCheck> check)
    {
        services.AddSingleton(check);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EntityFrameworkCoreStartupChecks>());
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (IStoreStartupCheck check in checks)
        {
            await check.RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
