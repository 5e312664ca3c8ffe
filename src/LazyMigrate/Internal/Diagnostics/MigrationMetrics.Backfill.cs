using System.Diagnostics;
using System.Diagnostics.Metrics;
using LazyMigrate.Backfill;

namespace LazyMigrate.Internal;

/// <summary>The backfill's instruments: what each batch did with the entities it scanned, and its duration.</summary>
internal sealed partial class MigrationMetrics
{
    private const string OutcomeTag = "lazymigrate.outcome";

    private readonly Counter<long> _backfillEntities;
    private readonly Histogram<double> _backfillBatchDuration;

    public void BackfillBatch(string migration, BackfillCounts counts, TimeSpan elapsed)
    {
        Add(migration, "migrated", counts.Migrated);
        Add(migration, "already_present", counts.AlreadyPresent);
        Add(migration, "vanished", counts.Vanished);
        Add(migration, "quarantined", counts.Quarantined);
        _backfillBatchDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(MigrationTag, migration));
    }

    private void Add(string migration, string outcome, long count)
    {
        if (count > 0)
        {
            _backfillEntities.Add(count, new TagList { { MigrationTag, migration }, { OutcomeTag, outcome } });
        }
    }

    private static (Counter<long>, Histogram<double>) CreateBackfillInstruments(Meter meter) =>
        (
            meter.CreateCounter<long>(
                LazyMigrateTelemetry.BackfillEntitiesInstrument,
                "{entity}",
                "Entities a backfill scanned, by outcome."
            ),
            meter.CreateHistogram<double>(
                LazyMigrateTelemetry.BackfillBatchDurationInstrument,
                "s",
                "Duration of a backfill batch: its scan and its migration."
            )
        );
}
