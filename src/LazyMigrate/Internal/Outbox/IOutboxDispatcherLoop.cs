namespace LazyMigrate.Internal;

/// <summary>A migration's dispatcher as the hosted service runs it: every migration's loop, side by side.</summary>
internal interface IOutboxDispatcherLoop
{
    string MigrationName { get; }

    /// <summary>Drains, then waits for a write to wake it or for the poll interval, until stopped.</summary>
    Task RunAsync(CancellationToken stoppingToken);
}
