namespace LazyMigrate.Backfill;

/// <summary>An old entity the backfill could not migrate, kept aside with its error until a retry clears it.</summary>
/// <param name="EntityId">The entity id.</param>
/// <param name="Error">The error: its type and message, never the entity's data.</param>
/// <param name="QuarantinedAt">When it was quarantined or last failed again.</param>
/// <param name="Attempts">How many times it failed.</param>
public sealed record QuarantinedEntity(string EntityId, string Error, DateTimeOffset QuarantinedAt, int Attempts);
