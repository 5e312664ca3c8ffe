using LazyMigrate.Backfill;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// One row of the checkpoints an <see cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/> keeps in a user's
/// context: a migration's <see cref="BackfillCheckpoint"/> and the lease of its backfill. Map it with <see
/// cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateBackfill"/>.
/// </summary>
/// <remarks>
/// Times are Unix times in microseconds (<c>bigint</c>), as in <see cref="LazyMigrateOutboxItem"/>. A row whose <see
/// cref="UpdatedAtMicroseconds"/> is <see langword="null"/> holds a lease but no checkpoint yet. The store sets every
/// column; an application only reads them.
/// </remarks>
public sealed class LazyMigrateBackfillCheckpoint
{
    /// <summary>The longest <see cref="Migration"/> the mapping allows, as for the outbox.</summary>
    public const int MaxMigrationLength = LazyMigrateOutboxItem.MaxMigrationLength;

    /// <summary>The longest <see cref="Cursor"/> the mapping allows, as for <see cref="LazyMigrateEntry"/>.</summary>
    public const int MaxCursorLength = LazyMigrateEntry.MaxEntityIdLength;

    /// <summary>The longest <see cref="LeaseOwner"/> (a runner's id) the mapping allows.</summary>
    public const int MaxLeaseOwnerLength = 200;

    /// <summary>Gets or sets the migration name.</summary>
    public string Migration { get; set; } = "";

    /// <summary>Gets or sets the last id of the last committed batch: a run resumes after it.</summary>
    public string? Cursor { get; set; }

    /// <summary>Gets or sets how many old entities were scanned.</summary>
    public long Scanned { get; set; }

    /// <summary>Gets or sets how many entities the backfill inserted into the new store.</summary>
    public long Migrated { get; set; }

    /// <summary>Gets or sets how many entities the new store held already.</summary>
    public long AlreadyPresent { get; set; }

    /// <summary>Gets or sets how many scanned entities the old store no longer held.</summary>
    public long Vanished { get; set; }

    /// <summary>Gets or sets how many entities were quarantined.</summary>
    public long Quarantined { get; set; }

    /// <summary>Gets or sets a value indicating whether the scan reached the end of the old store.</summary>
    public bool IsComplete { get; set; }

    /// <summary>
    /// Gets or sets when the checkpoint was saved, in Unix microseconds; <see langword="null"/> before the first save.
    /// </summary>
    public long? UpdatedAtMicroseconds { get; set; }

    /// <summary>Gets or sets the runner holding the lease, or <see langword="null"/> when it is free.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>Gets or sets when the lease lapses, in Unix microseconds.</summary>
    public long? LeaseExpiresAtMicroseconds { get; set; }
}
