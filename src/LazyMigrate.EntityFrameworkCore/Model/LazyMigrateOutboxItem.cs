using LazyMigrate.Outbox;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// One row of the outbox an <see cref="EntityFrameworkCoreOutbox{TContext}"/> keeps in a user's context: an <see
/// cref="OutboxItem"/> as stored. Map it with <see cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateOutbox"/>.
/// </summary>
/// <remarks>
/// Times are Unix times in microseconds (<c>bigint</c>), whatever the provider: SQLite has no time type that orders
/// and compares correctly, and a number does on every database. The outbox sets every column; an application only
/// reads them (an operator's query, a dashboard).
/// </remarks>
public sealed class LazyMigrateOutboxItem
{
    /// <summary>The longest <see cref="Migration"/> the mapping allows.</summary>
    public const int MaxMigrationLength = 200;

    /// <summary>The longest <see cref="EntityId"/> the mapping allows, as for <see cref="LazyMigrateEntry"/>.</summary>
    public const int MaxEntityIdLength = LazyMigrateEntry.MaxEntityIdLength;

    /// <summary>The longest <see cref="LeaseOwner"/> (a dispatcher's id) the mapping allows.</summary>
    public const int MaxLeaseOwnerLength = 200;

    /// <summary>Gets or sets the migration name.</summary>
    public string Migration { get; set; } = "";

    /// <summary>Gets or sets what the item brings up to date.</summary>
    public OutboxItemKind Kind { get; set; }

    /// <summary>Gets or sets the entity id.</summary>
    public string EntityId { get; set; } = "";

    /// <summary>Gets or sets the version: 1 when first recorded, one more for each write coalesced into it.</summary>
    public long Version { get; set; }

    /// <summary>
    /// Gets or sets the order of the item's latest record: one more than the table's greatest when recorded (see
    /// <see cref="OutboxItem.Sequence"/>).
    /// </summary>
    public long Sequence { get; set; }

    /// <summary>Gets or sets an event's values, as JSON; <see langword="null"/> for a write-back.</summary>
    public string? Payload { get; set; }

    /// <summary>Gets or sets when the item was first recorded, in Unix microseconds.</summary>
    public long RecordedAtMicroseconds { get; set; }

    /// <summary>Gets or sets how many attempts failed so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Gets or sets when the item is due next, in Unix microseconds.</summary>
    public long NextAttemptAtMicroseconds { get; set; }

    /// <summary>Gets or sets the error of the last failed attempt, without entity payloads.</summary>
    public string? LastError { get; set; }

    /// <summary>Gets or sets a value indicating whether the item was dead-lettered.</summary>
    public bool IsDeadLettered { get; set; }

    /// <summary>Gets or sets the dispatcher holding the item's lease.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>Gets or sets when the item's lease ends, in Unix microseconds.</summary>
    public long? LeaseExpiresAtMicroseconds { get; set; }
}
