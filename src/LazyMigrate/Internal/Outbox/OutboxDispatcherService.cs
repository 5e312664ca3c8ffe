using Microsoft.Extensions.Hosting;

namespace LazyMigrate.Internal;

/// <summary>The hosted service of <c>AddLazyMigrationDispatcher</c>: every migration's dispatcher loop.</summary>
internal sealed class OutboxDispatcherService(IEnumerable<IOutboxDispatcherLoop> dispatchers) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(dispatchers.Select(d => Task.Run(() => d.RunAsync(stoppingToken), CancellationToken.None)));
}
