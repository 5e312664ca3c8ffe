namespace LazyMigrate.Backfill;

/// <summary>What <see cref="IBackfillRunner{TOld, TNew}.RetryQuarantinedAsync"/> did.</summary>
/// <param name="Retried">How many quarantined entities were retried.</param>
/// <param name="Migrated">How many migrated and left the quarantine.</param>
/// <param name="Cleared">How many left it unmigrated: the new store held them, or the old no longer did.</param>
/// <param name="StillQuarantined">How many failed again and stay.</param>
public sealed record QuarantineRetrySummary(int Retried, int Migrated, int Cleared, int StillQuarantined);
