using LazyMigrate.Backfill;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// One row of the quarantine an <see cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/> keeps in a user's
/// context: a <see cref="QuarantinedEntity"/> of one migration. Map it with <see
/// cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateBackfill"/>.
/// </summary>
public sealed class LazyMigrateQuarantinedEntity
{
    /// <summary>The longest <see cref="Migration"/> the mapping allows.</summary>
    public const int MaxMigrationLength = LazyMigrateBackfillCheckpoint.MaxMigrationLength;

    /// <summary>The longest <see cref="EntityId"/> the mapping allows, as for <see cref="LazyMigrateEntry"/>.</summary>
    public const int MaxEntityIdLength = LazyMigrateEntry.MaxEntityIdLength;

    /// <summary>Gets or sets the migration name.</summary>
    public string Migration { get; set; } = "";

    /// <summary>Gets or sets the entity id.</summary>
    public string EntityId { get; set; } = "";

    /// <summary>Gets or sets the error: its type and message, never the entity's data.</summary>
    public string Error { get; set; } = "";

    /// <summary>Gets or sets when the entity was quarantined or last failed again, in Unix microseconds.</summary>
    public long QuarantinedAtMicroseconds { get; set; }

    /// <summary>Gets or sets how many times the entity failed.</summary>
    public int Attempts { get; set; }
}
