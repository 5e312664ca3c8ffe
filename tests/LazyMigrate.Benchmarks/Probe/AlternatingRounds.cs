using System.Diagnostics;
using System.Globalization;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// Runs rounds of several ways of doing the same work, each round in the opposite order of the last, and keeps what
/// each round cost per operation: wall time, this process's CPU time, and thread-pool work items.
/// </summary>
/// <remarks>
/// The CPU time includes the thread pool's spinning while it waits for the server, so it is an upper bound of the
/// client's own work, but one that every way pays alike.
/// </remarks>
internal sealed class AlternatingRounds
{
    // Uncounted rounds first: they fill connection pools, prepared statements and the server's caches. With tiered
    // compilation on (the runtime's default) they also let it finish; on these 2 cores the first ten rounds of each way
    // then ran up to twice as slow as the rest. docs/benchmarks.md runs the probe with tiered compilation off.
    public const int WarmUpRounds = 10;

    private readonly Dictionary<string, List<Sample>> _samples = [];

    /// <summary>Gets the median cost per operation of <paramref name="way"/>.</summary>
    public Sample Median(string way) =>
        new(
            MedianOf(_samples[way].Select(s => s.Micros)),
            MedianOf(_samples[way].Select(s => s.CpuMicros)),
            MedianOf(_samples[way].Select(s => s.WorkItems))
        );

    /// <summary>Gets every counted round's time per operation of <paramref name="way"/>, in microseconds.</summary>
    public string Rounds(string way) =>
        string.Join(' ', _samples[way].Select(s => s.Micros.ToString("F0", CultureInfo.InvariantCulture)));

    /// <summary>Gets every counted round's time per operation of <paramref name="way"/>, in microseconds.</summary>
    public IReadOnlyList<double> Micros(string way) => [.. _samples[way].Select(s => s.Micros)];

    /// <summary>
    /// Gets the fastest and slowest counted rounds of <paramref name="way"/>, in microseconds per operation.
    /// </summary>
    public (double Min, double Max) Range(string way) =>
        (_samples[way].Min(s => s.Micros), _samples[way].Max(s => s.Micros));

    /// <param name="ways">The names of the ways, in the order of the first round.</param>
    /// <param name="rounds">Rounds counted after the warm-up.</param>
    /// <param name="operationsPerRound">Operations each round does, to cost one.</param>
    /// <param name="prepareRound">
    /// Prepares a round of a way outside the measurement (fresh rows, say) and returns the measured work.
    /// </param>
    public static async Task<AlternatingRounds> RunAsync(
        IReadOnlyList<string> ways,
        int rounds,
        int operationsPerRound,
        Func<string, Task<Func<Task>>> prepareRound
    )
    {
        var result = new AlternatingRounds();
        foreach (string way in ways)
        {
            result._samples[way] = [];
        }

        using var process = Process.GetCurrentProcess();
        for (int round = 0; round < WarmUpRounds + rounds; round++)
        {
            foreach (string way in round % 2 == 0 ? ways : ways.Reverse())
            {
                Func<Task> work = await prepareRound(way);
                process.Refresh();
                TimeSpan cpuBefore = process.TotalProcessorTime;
                long workItemsBefore = ThreadPool.CompletedWorkItemCount;
                long started = Stopwatch.GetTimestamp();
                await work();
                double micros = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                process.Refresh();
                if (round >= WarmUpRounds)
                {
                    result
                        ._samples[way]
                        .Add(
                            new Sample(
                                micros / operationsPerRound,
                                (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / operationsPerRound,
                                (ThreadPool.CompletedWorkItemCount - workItemsBefore) / (double)operationsPerRound
                            )
                        );
                }
            }
        }

        return result;
    }

    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1
            ? sorted[sorted.Count / 2]
            : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// The cost of one operation: wall time and CPU time in microseconds, and thread-pool work items.
    /// </summary>
    public readonly record struct Sample(double Micros, double CpuMicros, double WorkItems);
}
