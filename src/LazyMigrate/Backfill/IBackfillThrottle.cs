namespace LazyMigrate.Backfill;

/// <summary>
/// Tells a backfill to hold off, on a signal the team chooses (the old database is busy, replication lags, office
/// hours): asked before each batch.
/// </summary>
public interface IBackfillThrottle
{
    /// <summary>Asks whether the next batch may run now.</summary>
    /// <param name="context">The migration and its last batch.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see cref="TimeSpan.Zero"/> to go on; else how long to wait before asking again.</returns>
    ValueTask<TimeSpan> GetDelayAsync(BackfillThrottleContext context, CancellationToken cancellationToken);
}

/// <summary>What a throttle is told before a batch.</summary>
/// <param name="Migration">The migration name.</param>
/// <param name="NextBatchSize">The size of the batch about to run.</param>
/// <param name="LastBatchDuration">How long the last batch took; zero before the first.</param>
public readonly record struct BackfillThrottleContext(string Migration, int NextBatchSize, TimeSpan LastBatchDuration);
