namespace LazyMigrate;

/// <summary>Names of LazyMigrate's meter, activity source and instruments, for OpenTelemetry and listeners.</summary>
public static class LazyMigrateTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "LazyMigrate";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string ActivitySourceName = "LazyMigrate";

    /// <summary>
    /// Counter of reads, tagged with the migration and the source that answered (<c>new</c>, <c>old</c>, <c>none</c>).
    /// </summary>
    public const string ReadsInstrument = "lazymigrate.reads";

    /// <summary>Counter of migration attempts, tagged with the migration, trigger and outcome.</summary>
    public const string MigrationsInstrument = "lazymigrate.migrations";

    /// <summary>
    /// Histogram of the duration of a migration, lock wait included, in seconds: one value per entity, the duration of
    /// its batch.
    /// </summary>
    public const string MigrationDurationInstrument = "lazymigrate.migration.duration";

    /// <summary>
    /// Histogram of the time spent waiting for a migration lock, in seconds, tagged with whether it was acquired.
    /// </summary>
    public const string LockWaitInstrument = "lazymigrate.lock.wait";

    /// <summary>
    /// Counter of failures, tagged with the migration and the kind (<c>mapping</c>, <c>lock_timeout</c>, <c>store</c>,
    /// <c>handler</c>, <c>write_back</c>).
    /// </summary>
    public const string FailuresInstrument = "lazymigrate.failures";

    /// <summary>
    /// Counter of writes through the new API, tagged with the migration, operation and write-back mode.
    /// </summary>
    public const string WritesInstrument = "lazymigrate.writes";

    /// <summary>Counter of outbox items applied by dispatchers, tagged with the migration and the item kind.</summary>
    public const string OutboxAppliedInstrument = "lazymigrate.outbox.applied";

    /// <summary>Counter of failed outbox attempts scheduled again, by migration and item kind.</summary>
    public const string OutboxRetriedInstrument = "lazymigrate.outbox.retried";

    /// <summary>Counter of dead-lettered outbox items, tagged with the migration and the item kind.</summary>
    public const string OutboxDeadLetteredInstrument = "lazymigrate.outbox.dead_lettered";

    /// <summary>
    /// Counter of outbox items completed without a write, tagged with the migration, the item kind and the reason
    /// (<c>superseded</c>, <c>unchanged</c>, <c>not_migrated</c>).
    /// </summary>
    public const string OutboxSkippedInstrument = "lazymigrate.outbox.skipped";

    /// <summary>Gauge of pending outbox items, tagged with the migration and the item kind.</summary>
    public const string OutboxPendingInstrument = "lazymigrate.outbox.pending";

    /// <summary>Gauge of the age of the oldest pending outbox item in seconds, by migration and item kind.</summary>
    public const string OutboxOldestAgeInstrument = "lazymigrate.outbox.oldest_age";

    /// <summary>
    /// Counter of the entities a backfill scanned, by migration and outcome (<c>migrated</c>, <c>already_present</c>,
    /// <c>vanished</c>, <c>quarantined</c>).
    /// </summary>
    public const string BackfillEntitiesInstrument = "lazymigrate.backfill.entities";

    /// <summary>Histogram of the duration of a backfill batch in seconds, scan and migration, by migration.</summary>
    public const string BackfillBatchDurationInstrument = "lazymigrate.backfill.batch.duration";
}
