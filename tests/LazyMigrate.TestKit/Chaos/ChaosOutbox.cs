using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Chaos;

/// <summary>
/// An outbox whose dispatcher calls (claim, complete, reschedule, dead-letter) go through a <see cref="StoreChaos"/>:
/// a claim whose reply is lost leaves its items leased to nobody until the lease ends, a completion that fails leaves
/// applied items to be applied again, a failed reschedule leaves the attempt uncounted.
/// </summary>
/// <remarks>
/// <see cref="RecordAsync"/>, the writers' call, passes through, as do the listings and statistics a test reads: a
/// fault there fails the save itself, which the write path's own tests cover; here the writers must succeed, so that
/// the new store holds every write and the old store can be checked against it.
/// </remarks>
public sealed class ChaosOutbox(IMigrationOutbox inner, StoreChaos chaos) : IMigrationOutbox
{
    /// <summary>Gets the chaos the dispatcher calls go through.</summary>
    public StoreChaos Chaos => chaos;

    public ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default) =>
        inner.RecordAsync(intent, cancellationToken);

    public ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => inner.ClaimAsync(claim, ct), cancellationToken);

    public ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => inner.CompleteAsync(items, ct), cancellationToken);

    public ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => inner.RescheduleAsync(item, nextAttemptAt, error, ct), cancellationToken);

    public ValueTask DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(ct => inner.DeadLetterAsync(item, error, ct), cancellationToken);

    public ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    ) => inner.ListDeadLettersAsync(migration, limit, cancellationToken);

    public ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    ) => inner.ReplayDeadLettersAsync(migration, entityIds, now, cancellationToken);

    public ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    ) => inner.PurgeDeadLettersAsync(migration, entityIds, cancellationToken);

    public ValueTask<OutboxStatistics> GetStatisticsAsync(
        string migration,
        CancellationToken cancellationToken = default
    ) => inner.GetStatisticsAsync(migration, cancellationToken);
}
