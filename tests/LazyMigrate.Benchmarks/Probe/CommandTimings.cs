using System.Collections.Concurrent;
using System.Diagnostics;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// Sums Npgsql's activities (one per round trip) by statement while it lives, to see where a migration's time goes.
/// </summary>
internal sealed class CommandTimings : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, (long Count, double Micros)> _totals = new();

    public CommandTimings()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                object? statement = activity.GetTagItem("db.statement") ?? activity.GetTagItem("db.query.text");
                string key = (statement ?? activity.DisplayName)?.ToString() ?? "?";
                key = key.Length > 90 ? key[..90] : key;
                double micros = activity.Duration.TotalMicroseconds;
                _totals.AddOrUpdate(key, (1, micros), (_, t) => (t.Count + 1, t.Micros + micros));
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Print(string title, int entities)
    {
        Console.WriteLine($"--- {title}: round trips per entity x mean duration, by statement");
        foreach (var (statement, (count, micros)) in _totals.OrderByDescending(t => t.Value.Micros))
        {
            Console.WriteLine(
                $"  {count / (double)entities, 5:F2} x {micros / count, 8:F1} us  {statement.ReplaceLineEndings(" ")}"
            );
        }
    }

    public void Dispose() => _listener.Dispose();
}
