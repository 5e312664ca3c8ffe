namespace LazyMigrate.Outbox;

/// <summary>What a write records in the outbox, in the write's own transaction where the store allows it.</summary>
public sealed class OutboxIntent
{
    /// <summary>Initializes a new instance of the <see cref="OutboxIntent"/> class.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="kind">What to bring up to date.</param>
    /// <param name="entityId">The entity id.</param>
    /// <param name="payload">The values an event carries, as JSON; <see langword="null"/> for a write-back.</param>
    /// <param name="recordedAt">When the write happened, by the writer's clock.</param>
    public OutboxIntent(
        string migration,
        OutboxItemKind kind,
        string entityId,
        string? payload,
        DateTimeOffset recordedAt
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentException.ThrowIfNullOrEmpty(entityId);
        Migration = migration;
        Kind = kind;
        EntityId = entityId;
        Payload = payload;
        RecordedAt = recordedAt;
    }

    /// <summary>Gets the migration name.</summary>
    public string Migration { get; }

    /// <summary>Gets what to bring up to date.</summary>
    public OutboxItemKind Kind { get; }

    /// <summary>Gets the entity id.</summary>
    public string EntityId { get; }

    /// <summary>
    /// Gets the values an <see cref="OutboxItemKind.EntityMigrated"/> item carries, as JSON; <see langword="null"/>
    /// for a write-back, which reads the current state when it is applied.
    /// </summary>
    public string? Payload { get; }

    /// <summary>Gets when the write happened, by the writer's clock.</summary>
    public DateTimeOffset RecordedAt { get; }
}
