using System.Collections.Concurrent;
using System.Globalization;

namespace LazyMigrate.WebService.Tests;

/// <summary>What a run of the fleet saw: every broken promise, the counts, and the lag samples.</summary>
public sealed class FleetReport
{
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentBag<double> _v2ToV1Lags = [];
    private readonly ConcurrentBag<double> _v1ToV2Lags = [];
    private int _requests;
    private int _v1Writes;
    private int _v1WritesToMigrated;
    private int _v2Writes;
    private int _switchedToV2;
    private int _switchedBack;

    public IReadOnlyCollection<string> Violations => _violations;

    public int Requests => _requests;

    public int V1Writes => _v1Writes;

    /// <summary>Gets the v1 writes to customers the new store held: each needs one forward sync, no more.</summary>
    public int V1WritesToMigrated => _v1WritesToMigrated;

    public int V2Writes => _v2Writes;

    public int SwitchedToV2 => _switchedToV2;

    public int SwitchedBack => _switchedBack;

    /// <summary>Gets the forward syncs applied, from the service's /status once the outbox drained.</summary>
    public long ForwardSyncsApplied { get; set; }

    /// <summary>Gets the forward sync items completed, applied or skipped for any reason.</summary>
    public long ForwardSyncsHandled { get; set; }

    /// <summary>Gets the forward syncs completed without a write, by reason.</summary>
    public string ForwardSyncsSkipped { get; set; } = "";

    public long WriteBacksApplied { get; set; }

    public void Violation(string what) => _violations.Enqueue(what);

    public void Request() => Interlocked.Increment(ref _requests);

    public void V1Write(bool migrated)
    {
        Interlocked.Increment(ref _v1Writes);
        if (migrated)
        {
            Interlocked.Increment(ref _v1WritesToMigrated);
        }
    }

    public void V2Write() => Interlocked.Increment(ref _v2Writes);

    public void Switched(bool back) => Interlocked.Increment(ref back ? ref _switchedBack : ref _switchedToV2);

    /// <summary>Records how long a write took to show through the other API.</summary>
    public void Lag(bool fromV2, TimeSpan lag) => (fromV2 ? _v2ToV1Lags : _v1ToV2Lags).Add(lag.TotalMilliseconds);

    public string Summary(string configuration) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{configuration}: {Requests} requests, {SwitchedToV2} clients switched to v2 and {SwitchedBack} back; "
                + $"v1 writes {V1Writes} ({V1WritesToMigrated} to migrated customers), v2 writes {V2Writes}; "
                + $"forward syncs applied {ForwardSyncsApplied} (skipped: {ForwardSyncsSkipped}), "
                + $"write-backs applied by the dispatcher {WriteBacksApplied}; "
                + $"lag v2->v1 {Percentiles(_v2ToV1Lags)}, lag v1->v2 {Percentiles(_v1ToV2Lags)}"
        );

    private static string Percentiles(ConcurrentBag<double> samples)
    {
        if (samples.IsEmpty)
        {
            return "at once (no samples)";
        }

        double[] sorted = [.. samples.Order()];
        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return string.Create(
            CultureInfo.InvariantCulture,
            $"p50 {At(0.50):F0} ms, p99 {At(0.99):F0} ms, max {sorted[^1]:F0} ms ({sorted.Length} samples)"
        );
    }
}
