namespace LazyMigrate.Internal;

/// <summary>What <see cref="EntityMigrator{TOld, TNew}.MigrateScannedAsync"/> did with a scanned batch.</summary>
/// <param name="Inserted">The ids it inserted.</param>
/// <param name="Mapped">How many mapped: the inserted ones and those the new store held already.</param>
/// <param name="Failures">The ids the mapper failed on (or whose old value was absent), with their errors.</param>
internal sealed record ScannedMigration(
    IReadOnlyCollection<string> Inserted,
    int Mapped,
    IReadOnlyDictionary<string, LazyMigrationException> Failures
);
