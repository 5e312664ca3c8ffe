using System.Threading.RateLimiting;
using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>
/// Holds a batch back until it may run: while the runner is paused, while the team's throttle says wait, and until the
/// rate limits allow its entities. Every wait goes through the <see cref="TimeProvider"/>, so tests drive it with a
/// fake clock.
/// </summary>
internal sealed class BackfillPacer(
    string migration,
    BackfillOptions options,
    IBackfillThrottle? throttle,
    TimeProvider timeProvider,
    ILogger logger
)
{
    private readonly object _gate = new();
    private TaskCompletionSource? _resumed;
    private long _nextAt;

    public bool IsPaused
    {
        get
        {
            lock (_gate)
            {
                return _resumed is not null;
            }
        }
    }

    public void Pause()
    {
        lock (_gate)
        {
            _resumed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        Log.BackfillPaused(logger, migration);
    }

    public void Resume()
    {
        TaskCompletionSource? resumed;
        lock (_gate)
        {
            resumed = _resumed;
            _resumed = null;
        }

        if (resumed is not null)
        {
            Log.BackfillResumed(logger, migration);
            resumed.TrySetResult();
        }
    }

    /// <summary>Waits until a batch of <paramref name="size"/> entities may run.</summary>
    public async ValueTask WaitAsync(int size, TimeSpan lastBatchDuration, CancellationToken cancellationToken)
    {
        await WhilePausedAsync(cancellationToken).ConfigureAwait(false);
        await WhileThrottledAsync(size, lastBatchDuration, cancellationToken).ConfigureAwait(false);
        await PaceAsync(size, cancellationToken).ConfigureAwait(false);
        await AcquirePermitsAsync(size, cancellationToken).ConfigureAwait(false);
    }

    private Task WhilePausedAsync(CancellationToken cancellationToken)
    {
        Task? resumed;
        lock (_gate)
        {
            resumed = _resumed?.Task;
        }

        if (resumed is null)
        {
            return Task.CompletedTask;
        }

        Log.BackfillHeld(logger, migration);
        return resumed.WaitAsync(cancellationToken);
    }

    private async ValueTask WhileThrottledAsync(int size, TimeSpan last, CancellationToken cancellationToken)
    {
        if (throttle is null)
        {
            return;
        }

        var context = new BackfillThrottleContext(migration, size, last);
        TimeSpan delay;
        while ((delay = await throttle.GetDelayAsync(context, cancellationToken).ConfigureAwait(false)) > TimeSpan.Zero)
        {
            await DelayAsync(delay, Log.BackfillThrottled, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <see cref="BackfillOptions.MaxEntitiesPerSecond"/>: a batch starts no sooner than its predecessor's entities
    /// allow. Time spent paused or throttled earns no credit, so a resumed backfill does not burst.
    /// </summary>
    private async ValueTask PaceAsync(int size, CancellationToken cancellationToken)
    {
        if (options.MaxEntitiesPerSecond is not { } rate)
        {
            return;
        }

        long now = timeProvider.GetTimestamp();
        if (_nextAt > now)
        {
            await DelayAsync(timeProvider.GetElapsedTime(now, _nextAt), Log.BackfillRateLimited, cancellationToken)
                .ConfigureAwait(false);
            now = _nextAt;
        }

        _nextAt = now + (long)(size / rate * timeProvider.TimestampFrequency);
    }

    /// <summary>
    /// Waits on the clock, logging the wait once its timer is set: a test that sees the log and moves a fake clock on
    /// ends the wait.
    /// </summary>
    private Task DelayAsync(TimeSpan delay, Action<ILogger, string, TimeSpan> log, CancellationToken cancellationToken)
    {
        Task wait = Task.Delay(delay, timeProvider, cancellationToken);
        log(logger, migration, delay);
        return wait;
    }

    private async ValueTask AcquirePermitsAsync(int size, CancellationToken cancellationToken)
    {
        if (options.RateLimiter is not { } limiter)
        {
            return;
        }

        while (true)
        {
            using RateLimitLease lease = await limiter.AcquireAsync(size, cancellationToken).ConfigureAwait(false);
            if (lease.IsAcquired)
            {
                return;
            }

            // The limiter's queue is full: wait as long as it says, or a poll interval.
            TimeSpan wait = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter)
                ? retryAfter
                : options.LeasePollInterval;
            await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
