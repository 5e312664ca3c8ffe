using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LazyMigrate.WebService;

/// <summary>
/// The outbox items this process's dispatcher applied and skipped since it started, by kind (and by reason for the
/// skipped), read off LazyMigrate's meter as any metrics exporter would.
/// </summary>
public sealed class OutboxCounters : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _applied = new();
    private readonly ConcurrentDictionary<string, long> _skipped = new();
    private readonly MeterListener _listener = new();

    public OutboxCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (
                instrument.Meter.Name == LazyMigrateTelemetry.MeterName
                && instrument.Name
                    is LazyMigrateTelemetry.OutboxAppliedInstrument
                        or LazyMigrateTelemetry.OutboxSkippedInstrument
            )
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(
            (instrument, value, tags, _) =>
            {
                string? kind = null;
                string? reason = null;
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    (kind, reason) = tag.Key switch
                    {
                        "lazymigrate.outbox.kind" => (tag.Value as string, reason),
                        "lazymigrate.outbox.reason" => (kind, tag.Value as string),
                        _ => (kind, reason),
                    };
                }

                bool applied = instrument.Name == LazyMigrateTelemetry.OutboxAppliedInstrument;
                string key = applied || reason is null ? kind ?? "unknown" : $"{kind}:{reason}";
                (applied ? _applied : _skipped).AddOrUpdate(key, value, (_, total) => total + value);
            }
        );
        _listener.Start();
    }

    /// <summary>Gets the items applied (written), by kind: <c>write_back</c>, <c>forward_sync</c>, ...</summary>
    public IReadOnlyDictionary<string, long> Applied => new SortedDictionary<string, long>(_applied);

    /// <summary>Gets the items completed without a write, by kind and reason (forward_sync:superseded).</summary>
    public IReadOnlyDictionary<string, long> Skipped => new SortedDictionary<string, long>(_skipped);

    public void Dispose() => _listener.Dispose();
}
