using Microsoft.Extensions.Hosting;

namespace LazyMigrate.Internal;

/// <summary>The hosted service of <c>AddLazyMigrationBackfill</c>: every migration's backfill, to its end.</summary>
internal sealed class BackfillService(IEnumerable<IBackfillLoop> backfills) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(backfills.Select(b => Task.Run(() => b.RunAsync(stoppingToken), CancellationToken.None)));
}
