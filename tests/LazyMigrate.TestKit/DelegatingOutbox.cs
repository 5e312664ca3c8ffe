using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit;

/// <summary>
/// An outbox that passes every call to another: the base of the tests' outboxes that observe or fail some calls,
/// each overriding only those.
/// </summary>
public abstract class DelegatingOutbox(IMigrationOutbox inner) : IMigrationOutbox
{
    /// <summary>Gets the outbox every call goes to.</summary>
    protected IMigrationOutbox Inner => inner;

    public virtual ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default) =>
        inner.RecordAsync(intent, cancellationToken);

    public virtual ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    ) => inner.ClaimAsync(claim, cancellationToken);

    public virtual ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    ) => inner.CompleteAsync(items, cancellationToken);

    public virtual ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    ) => inner.RescheduleAsync(item, nextAttemptAt, error, cancellationToken);

    public virtual ValueTask DeadLetterAsync(
        OutboxItem item,
        string error,
        CancellationToken cancellationToken = default
    ) => inner.DeadLetterAsync(item, error, cancellationToken);

    public virtual ValueTask<IReadOnlyList<OutboxItem>> FindAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    ) => inner.FindAsync(migration, entityIds, cancellationToken);

    public virtual ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    ) => inner.ListDeadLettersAsync(migration, limit, cancellationToken);

    public virtual ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    ) => inner.ReplayDeadLettersAsync(migration, entityIds, now, cancellationToken);

    public virtual ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    ) => inner.PurgeDeadLettersAsync(migration, entityIds, cancellationToken);

    public virtual ValueTask<OutboxStatistics> GetStatisticsAsync(
        string migration,
        CancellationToken cancellationToken = default
    ) => inner.GetStatisticsAsync(migration, cancellationToken);
}
