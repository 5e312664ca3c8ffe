namespace LazyMigrate.Outbox;

/// <summary>An item of the outbox, as a claim or a listing of dead letters returns it.</summary>
/// <remarks>
/// An item is keyed by (<see cref="Migration"/>, <see cref="Kind"/>, <see cref="EntityId"/>): one per entity and
/// kind. Each write of a write-back item bumps its <see cref="Version"/>, so a dispatcher that applied version
/// <c>v</c> completes the item only if it is still at <c>v</c>, and a write that came after stays pending.
/// </remarks>
public sealed class OutboxItem
{
    /// <summary>Gets the migration name.</summary>
    public required string Migration { get; init; }

    /// <summary>Gets what the item brings up to date.</summary>
    public required OutboxItemKind Kind { get; init; }

    /// <summary>Gets the entity id.</summary>
    public required string EntityId { get; init; }

    /// <summary>Gets the item's version: 1 when first recorded, one more for each write coalesced into it.</summary>
    public required long Version { get; init; }

    /// <summary>
    /// Gets the order of the item's latest record in its outbox: a later record of any item of the outbox has a
    /// greater one (a database sequence where the outbox has one). It orders a write-back and a forward sync of one
    /// entity, so that the write made last wins in both stores.
    /// </summary>
    public long Sequence { get; init; }

    /// <summary>Gets the payload of an event item, as JSON; <see langword="null"/> for a write-back.</summary>
    public string? Payload { get; init; }

    /// <summary>Gets when the item was first recorded (and has been pending since).</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>Gets how many attempts failed so far.</summary>
    public int Attempts { get; init; }

    /// <summary>Gets when the item is due next.</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>Gets the error of the last failed attempt, or <see langword="null"/>.</summary>
    public string? LastError { get; init; }

    /// <summary>Gets whether the item was dead-lettered: it is not claimed until replayed.</summary>
    public bool IsDeadLettered { get; init; }

    /// <summary>Gets the dispatcher holding the item's lease, or <see langword="null"/>.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>Gets when the item's lease ends, or <see langword="null"/>.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}
