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
            try
            {
                BackfillSummary summary = await run(stoppingToken).ConfigureAwait(false);
                if (summary.IsComplete)
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                Log.BackfillFailed(logger, migration, options.RetryDelay, exception);
            }

            try
            {
                await Task.Delay(options.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
