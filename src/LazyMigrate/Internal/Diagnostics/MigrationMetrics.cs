using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LazyMigrate.Internal;

/// <summary>
/// The instruments of the <c>LazyMigrate</c> meter. Every tag is low-cardinality: the migration name and a few fixed
/// words, never an entity id.
/// </summary>
internal sealed partial class MigrationMetrics : IDisposable
{
    private const string MigrationTag = "lazymigrate.migration";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _reads;
    private readonly Counter<long> _migrations;
    private readonly Histogram<double> _migrationDuration;
    private readonly Histogram<double> _lockWait;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _writes;

    public MigrationMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter =
            meterFactory?.Create(new MeterOptions(LazyMigrateTelemetry.MeterName) { Version = LibraryVersion.Value })
            ?? new Meter(LazyMigrateTelemetry.MeterName, LibraryVersion.Value);
        _reads = _meter.CreateCounter<long>(
            LazyMigrateTelemetry.ReadsInstrument,
            "{read}",
            "Reads through a migrating repository, by the source that answered."
        );
        _migrations = _meter.CreateCounter<long>(
            LazyMigrateTelemetry.MigrationsInstrument,
            "{migration}",
            "Migration attempts, by outcome."
        );
        _migrationDuration = _meter.CreateHistogram<double>(
            LazyMigrateTelemetry.MigrationDurationInstrument,
            "s",
            "Duration of a migration under its lock."
        );
        _lockWait = _meter.CreateHistogram<double>(
            LazyMigrateTelemetry.LockWaitInstrument,
            "s",
            "Time spent waiting for a migration lock."
        );
        _failures = _meter.CreateCounter<long>(
            LazyMigrateTelemetry.FailuresInstrument,
            "{failure}",
            "Failed migrations and event handlers, by kind."
        );
        _writes = _meter.CreateCounter<long>(
            LazyMigrateTelemetry.WritesInstrument,
            "{write}",
            "Saves and deletes through a migrating repository."
        );
        (_outboxApplied, _outboxRetried, _outboxDeadLettered, _outboxSkipped) = CreateOutboxInstruments(_meter);
        (_backfillEntities, _backfillBatchDuration) = CreateBackfillInstruments(_meter);
    }

    public void Read(string migration, string source) =>
        _reads.Add(
            1,
            new KeyValuePair<string, object?>(MigrationTag, migration),
            new KeyValuePair<string, object?>("lazymigrate.source", source)
        );

    public void Migration(string migration, MigrationTrigger trigger, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { MigrationTag, migration },
            { "lazymigrate.trigger", trigger == MigrationTrigger.Backfill ? "backfill" : "on_demand" },
            { "lazymigrate.outcome", outcome },
        };
        _migrations.Add(1, tags);
        _migrationDuration.Record(elapsed.TotalSeconds, tags);
    }

    public void LockWait(string migration, bool acquired, TimeSpan elapsed) =>
        _lockWait.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>(MigrationTag, migration),
            new KeyValuePair<string, object?>("lazymigrate.acquired", acquired)
        );

    public void Failure(string migration, string kind) =>
        _failures.Add(
            1,
            new KeyValuePair<string, object?>(MigrationTag, migration),
            new KeyValuePair<string, object?>("lazymigrate.failure", kind)
        );

    public void Write(string migration, string operation, WriteBackMode mode) =>
        _writes.Add(
            1,
            new KeyValuePair<string, object?>(MigrationTag, migration),
            new KeyValuePair<string, object?>("lazymigrate.operation", operation),
            new KeyValuePair<string, object?>("lazymigrate.write_back", WriteBackTag(mode))
        );

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static string WriteBackTag(WriteBackMode mode) =>
        mode switch
        {
            WriteBackMode.Sync => "sync",
            WriteBackMode.Async => "async",
            _ => "none",
        };
}
