using LazyMigrate.Outbox;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Outbox rows to items and back: times as Unix microseconds (a time comes back truncated to them, as PostgreSQL's
/// own outbox keeps them).
/// </summary>
internal static class OutboxRows
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    public static long Micros(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerMicrosecond;

    public static DateTimeOffset Time(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * TicksPerMicrosecond);

    /// <summary>A new item for an intent: version 1, due at once, no attempts.</summary>
    public static LazyMigrateOutboxItem NewRow(OutboxIntent intent, long sequence) =>
        new()
        {
            Migration = intent.Migration,
            Kind = intent.Kind,
            EntityId = intent.EntityId,
            Version = 1,
            Sequence = sequence,
            Payload = intent.Payload,
            RecordedAtMicroseconds = Micros(intent.RecordedAt),
            NextAttemptAtMicroseconds = Micros(intent.RecordedAt),
        };

    public static OutboxItem ToItem(LazyMigrateOutboxItem row) =>
        new()
        {
            Migration = row.Migration,
            Kind = row.Kind,
            EntityId = row.EntityId,
            Version = row.Version,
            Sequence = row.Sequence,
            Payload = row.Payload,
            RecordedAt = Time(row.RecordedAtMicroseconds),
            Attempts = row.Attempts,
            NextAttemptAt = Time(row.NextAttemptAtMicroseconds),
            LastError = row.LastError,
            IsDeadLettered = row.IsDeadLettered,
            LeaseOwner = row.LeaseOwner,
            LeaseExpiresAt = row.LeaseExpiresAtMicroseconds is { } lease ? Time(lease) : null,
        };

    /// <summary>Checks what a call names against the mapping's lengths, before anything is written.</summary>
    /// <exception cref="InvalidEntityIdException">The entity id is longer than the mapping keeps.</exception>
    /// <exception cref="ArgumentException">The migration name is longer than the mapping keeps.</exception>
    public static void Validate(string migration, string entityId)
    {
        ValidateMigration(migration);
        if (entityId.Length > LazyMigrateOutboxItem.MaxEntityIdLength)
        {
            throw new InvalidEntityIdException(
                entityId,
                $"it is {entityId.Length} characters long; "
                    + $"the outbox keeps ids of at most {LazyMigrateOutboxItem.MaxEntityIdLength}"
            );
        }
    }

    /// <exception cref="ArgumentException">The migration name is longer than the mapping keeps.</exception>
    public static void ValidateMigration(string migration)
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        if (migration.Length > LazyMigrateOutboxItem.MaxMigrationLength)
        {
            throw new ArgumentException(
                $"The migration name '{migration}' is {migration.Length} characters long; "
                    + $"the EF Core outbox keeps names of at most {LazyMigrateOutboxItem.MaxMigrationLength}.",
                nameof(migration)
            );
        }
    }
}
