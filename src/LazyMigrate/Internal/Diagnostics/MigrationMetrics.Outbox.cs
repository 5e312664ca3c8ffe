using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>The outbox's instruments: what dispatchers applied, retried and dead-lettered; what is pending.</summary>
internal sealed partial class MigrationMetrics
{
    private const string KindTag = "lazymigrate.outbox.kind";
    private const string ReasonTag = "lazymigrate.outbox.reason";

    private readonly Counter<long> _outboxApplied;
    private readonly Counter<long> _outboxRetried;
    private readonly Counter<long> _outboxDeadLettered;
    private readonly Counter<long> _outboxSkipped;

    // The last statistics each dispatcher read, by migration: the gauges report them without a store call.
    private readonly ConcurrentDictionary<string, (OutboxStatistics Statistics, DateTimeOffset ReadAt)> _outboxes = new(
        StringComparer.Ordinal
    );

    public void OutboxApplied(string migration, OutboxItemKind kind, int count) =>
        _outboxApplied.Add(count, Tags(migration, kind));

    public void OutboxRetried(string migration, OutboxItemKind kind) => _outboxRetried.Add(1, Tags(migration, kind));

    public void OutboxDeadLettered(string migration, OutboxItemKind kind) =>
        _outboxDeadLettered.Add(1, Tags(migration, kind));

    public void OutboxSkipped(string migration, OutboxItemKind kind, string reason, int count)
    {
        TagList tags = Tags(migration, kind);
        tags.Add(ReasonTag, reason);
        _outboxSkipped.Add(count, tags);
    }

    /// <summary>Keeps a migration's latest statistics for the pending and oldest-age gauges.</summary>
    public void OutboxObserved(string migration, OutboxStatistics statistics, DateTimeOffset readAt) =>
        _outboxes[migration] = (statistics, readAt);

    private static TagList Tags(string migration, OutboxItemKind kind) =>
        new() { { MigrationTag, migration }, { KindTag, KindName(kind) } };

    private static string KindName(OutboxItemKind kind) =>
        kind switch
        {
            OutboxItemKind.WriteBack => "write_back",
            OutboxItemKind.EntityMigrated => "entity_migrated",
            OutboxItemKind.ForwardSync => "forward_sync",
            _ => "other",
        };

    private (Counter<long>, Counter<long>, Counter<long>, Counter<long>) CreateOutboxInstruments(Meter meter)
    {
        meter.CreateObservableGauge(
            LazyMigrateTelemetry.OutboxPendingInstrument,
            () => Observe(static (s, _, kind) => s.Pending.GetValueOrDefault(kind)),
            "{item}",
            "Outbox items not yet applied (due, backing off or leased), by kind."
        );
        meter.CreateObservableGauge(
            LazyMigrateTelemetry.OutboxOldestAgeInstrument,
            () =>
                Observe(
                    static (s, readAt, kind) =>
                        s.OldestPendingRecordedAt.TryGetValue(kind, out DateTimeOffset oldest)
                            ? Math.Max(0, (readAt - oldest).TotalSeconds)
                            : 0
                ),
            "s",
            "Age of the oldest pending outbox item, by kind, as of the dispatcher's last look."
        );
        return (
            meter.CreateCounter<long>(
                LazyMigrateTelemetry.OutboxAppliedInstrument,
                "{item}",
                "Outbox items applied by dispatchers, by kind."
            ),
            meter.CreateCounter<long>(
                LazyMigrateTelemetry.OutboxRetriedInstrument,
                "{item}",
                "Failed attempts of outbox items that were scheduled again, by kind."
            ),
            meter.CreateCounter<long>(
                LazyMigrateTelemetry.OutboxDeadLetteredInstrument,
                "{item}",
                "Outbox items dead-lettered after their last attempt, by kind."
            ),
            meter.CreateCounter<long>(
                LazyMigrateTelemetry.OutboxSkippedInstrument,
                "{item}",
                "Outbox items completed without a write, by kind and reason: superseded by a later write through "
                    + "the other API, unchanged (an echo), or not migrated."
            )
        );
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<OutboxStatistics, DateTimeOffset, OutboxItemKind, T> value)
        where T : struct
    {
        foreach (var (migration, (statistics, readAt)) in _outboxes)
        {
            foreach (OutboxItemKind kind in Enum.GetValues<OutboxItemKind>())
            {
                yield return new Measurement<T>(value(statistics, readAt, kind), Tags(migration, kind));
            }
        }
    }
}
