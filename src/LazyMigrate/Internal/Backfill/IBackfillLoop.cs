namespace LazyMigrate.Internal;

/// <summary>A migration's backfill as the hosted service of <c>AddLazyMigrationBackfill</c> runs it.</summary>
internal interface IBackfillLoop
{
    /// <summary>Runs the backfill to its end, running it again after a failure, until stopped.</summary>
    Task RunAsync(CancellationToken stoppingToken);
}
