using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LazyMigrate.QuickStart;

/// <summary>
/// Listens to the <c>lazymigrate.reads</c> counter of the <c>LazyMigrate</c> meter and adds it up by its
/// <c>lazymigrate.source</c> tag (<c>new</c>, <c>old</c>, <c>none</c>): what an OpenTelemetry exporter would see.
/// </summary>
public sealed class ReadsBySource : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public ReadsBySource()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (
                instrument.Meter.Name == LazyMigrateTelemetry.MeterName
                && instrument.Name == LazyMigrateTelemetry.ReadsInstrument
            )
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(
            (_, value, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "lazymigrate.source" && tag.Value is string source)
                    {
                        _counts.AddOrUpdate(source, value, (_, total) => total + value);
                    }
                }
            }
        );
        _listener.Start();
    }

    /// <summary>Gets the reads counted so far for one source.</summary>
    public long this[string source] => _counts.GetValueOrDefault(source);

    public void Dispose() => _listener.Dispose();
}
