using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>
/// Runs a backfill in the background until it is complete: a failure (a store down past its retries) is logged and
/// the run starts again from the checkpoint after <see cref="BackfillOptions.RetryDelay"/>.
/// </summary>
internal sealed class BackfillLoop(
    string migration,
    Func<CancellationToken, ValueTask<BackfillSummary>> run,
    BackfillOptions options,
    TimeProvider timeProvider,
    ILogger logger
)
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Exception failure;
            try
            {
                BackfillSummary summary = await run(stoppingToken).ConfigureAwait(false);
                if (summary.IsComplete)
                {
                    return;
                }

                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            // Logged once the retry's timer is set, so that a test that sees the log can move a fake clock past it.
            Task retry = Task.Delay(options.RetryDelay, timeProvider, stoppingToken);
            Log.BackfillFailed(logger, migration, options.RetryDelay, failure);
            try
            {
                await retry.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
