using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Runs every registered <see cref="IPostgreSqlStartupCheck"/> when the host starts (in
/// <see cref="IHostedLifecycleService.StartingAsync"/>, after options validation and before any hosted service starts
/// serving), so that a missing table or an unreachable database fails <c>host.StartAsync()</c>, not the first read.
/// </summary>
internal sealed class PostgreSqlStartupChecks(IEnumerable<IPostgreSqlStartupCheck> checks, IServiceProvider services)
    : IHostedLifecycleService
{
    /// <summary>
    /// Registers the check of one store, replacing an earlier one of the same migration and part (a second
    /// <c>Use...</c> call replaces the store, so its check too), and this service once.
    /// </summary>
    public static void Add(IServiceCollection services, IPostgreSqlStartupCheck check)
    {
        for (int i = services.Count - 1; i >= 0; i--)
        {
            if (
                services[i].ImplementationInstance is IPostgreSqlStartupCheck earlier
                && earlier.Migration == check.Migration
                && earlier.Part == check.Part
            )
            {
                services.RemoveAt(i);
            }
        }

        services.AddSingleton(check);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlStartupChecks>());
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (IPostgreSqlStartupCheck check in checks)
        {
            await check.RunAsync(services, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
