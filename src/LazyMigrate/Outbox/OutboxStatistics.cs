namespace LazyMigrate.Outbox;

/// <summary>What one migration's outbox holds, by kind.</summary>
public sealed class OutboxStatistics
{
    /// <summary>Initializes a new instance of the <see cref="OutboxStatistics"/> class.</summary>
    /// <param name="pending">The items not dead-lettered, by kind.</param>
    /// <param name="oldestPendingRecordedAt">When the oldest of them was recorded, by kind.</param>
    /// <param name="deadLettered">The dead-lettered items, by kind.</param>
    public OutboxStatistics(
        IReadOnlyDictionary<OutboxItemKind, long> pending,
        IReadOnlyDictionary<OutboxItemKind, DateTimeOffset> oldestPendingRecordedAt,
        IReadOnlyDictionary<OutboxItemKind, long> deadLettered
    )
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(oldestPendingRecordedAt);
        ArgumentNullException.ThrowIfNull(deadLettered);
        Pending = pending;
        OldestPendingRecordedAt = oldestPendingRecordedAt;
        DeadLettered = deadLettered;
    }

    /// <summary>Gets the items not dead-lettered (due, backing off or leased), by kind; none: absent.</summary>
    public IReadOnlyDictionary<OutboxItemKind, long> Pending { get; }

    /// <summary>Gets when the oldest pending item was recorded, by kind; nothing pending: absent.</summary>
    public IReadOnlyDictionary<OutboxItemKind, DateTimeOffset> OldestPendingRecordedAt { get; }

    /// <summary>Gets the dead-lettered items, by kind; a kind with none is absent.</summary>
    public IReadOnlyDictionary<OutboxItemKind, long> DeadLettered { get; }
}
