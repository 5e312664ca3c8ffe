using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>
/// The lease that lets one instance at a time advance a backfill: taken before the first batch, renewed by every
/// checkpoint and, before a batch, when a third of it has passed (a long pause or throttle), so that an instance that
/// stalled past its lease finds out before it inserts a batch another instance may be inserting.
/// </summary>
internal sealed class BackfillLease(
    string migration,
    IBackfillCheckpointStore checkpoints,
    BackfillOptions options,
    TimeProvider timeProvider
)
{
    private long _renewedAt;

    /// <summary>
    /// Waits until this instance holds the lease, or the backfill is complete.
    /// </summary>
    /// <returns>The checkpoint, or <see langword="null"/> before the first batch.</returns>
    public async ValueTask<BackfillCheckpoint?> AcquireAsync(
        string owner,
        ILogger logger,
        CancellationToken cancellationToken
    )
    {
        bool logged = false;
        while (true)
        {
            long asked = timeProvider.GetTimestamp();
            DateTimeOffset now = timeProvider.GetUtcNow();
            BackfillLeaseResult lease = await checkpoints
                .TryAcquireAsync(migration, owner, now + options.LeaseDuration, now, cancellationToken)
                .ConfigureAwait(false);
            if (lease.Acquired || lease.Checkpoint is { IsComplete: true })
            {
                _renewedAt = asked;
                return lease.Checkpoint;
            }

            // Logged once the timer is set, so that a test that sees the log can move a fake clock past it.
            Task wait = Task.Delay(options.LeasePollInterval, timeProvider, cancellationToken);
            if (!logged)
            {
                Log.BackfillWaitingForLease(logger, migration, lease.Holder ?? "another instance");
                logged = true;
            }

            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>Renews the lease when a third of it has passed since the last renewal.</summary>
    /// <param name="owner">The lease owner.</param>
    /// <param name="last">The checkpoint this instance saved last, or read when it took the lease.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>
    /// <see langword="false"/> when another instance holds the lease now, or held it meanwhile and moved the cursor.
    /// </returns>
    public async ValueTask<bool> RenewIfDueAsync(
        string owner,
        BackfillCheckpoint? last,
        CancellationToken cancellationToken
    )
    {
        if (timeProvider.GetElapsedTime(_renewedAt) < options.LeaseDuration / 3)
        {
            return true;
        }

        long asked = timeProvider.GetTimestamp();
        DateTimeOffset now = timeProvider.GetUtcNow();
        BackfillLeaseResult lease = await checkpoints
            .TryAcquireAsync(migration, owner, now + options.LeaseDuration, now, cancellationToken)
            .ConfigureAwait(false);
        // A lease that lapsed may have been taken, used and given up by another instance: then the cursor moved on
        // and this instance's is stale, and saving it would set the backfill back.
        if (!lease.Acquired || !SameProgress(lease.Checkpoint, last))
        {
            return false;
        }

        _renewedAt = asked;
        return true;
    }

    /// <summary>Saves a checkpoint and renews the lease.</summary>
    /// <returns><see langword="false"/> when another instance holds the lease: nothing was saved.</returns>
    public async ValueTask<bool> SaveAsync(
        BackfillCheckpoint checkpoint,
        string owner,
        CancellationToken cancellationToken
    )
    {
        long asked = timeProvider.GetTimestamp();
        bool saved = await checkpoints
            .SaveAsync(checkpoint, owner, timeProvider.GetUtcNow() + options.LeaseDuration, cancellationToken)
            .ConfigureAwait(false);
        if (saved)
        {
            _renewedAt = asked;
        }

        return saved;
    }

    private static bool SameProgress(BackfillCheckpoint? stored, BackfillCheckpoint? last) =>
        stored?.Cursor == last?.Cursor && stored?.Counts == last?.Counts && stored?.IsComplete == last?.IsComplete;

    /// <summary>Gives the lease up so another instance need not wait for it to lapse; a failure only logs.</summary>
    public async ValueTask ReleaseAsync(string owner)
    {
        try
        {
            await checkpoints.ReleaseAsync(migration, owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The lease lapses by itself; another instance only waits longer.
            _ = exception;
        }
    }
}
