using System.Diagnostics;
using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.Outbox;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// <c>--probe-lag [seconds] [saves per second...]</c>: the dispatcher's lag under a steady write load. For each rate,
/// writers save distinct entities with <see cref="WriteBackMode.Async"/> at that rate for the given time, the
/// dispatcher running in the background as a host would run it (woken by each save, <see
/// cref="OutboxOptions.DispatchOnWrite"/>); a sampler reads the outbox's statistics every 100 ms and records the age
/// of the oldest pending write-back (0 when none is pending). Prints the rate reached, the median, 95th percentile
/// and largest lag, and the most items pending at once. Lag is a latency under load, not a throughput beside a
/// baseline, so it is a probe and not a BenchmarkDotNet class.
/// </summary>
internal static class OutboxLagProbe
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(100);

    public static async Task RunAsync(string[] args)
    {
        int seconds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out int s) ? s : 20;
        int[] rates =
            args.Length > 2
                ? [.. args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))]
                : [500, 1000, 2000];
        Console.WriteLine("rate/s (asked)  rate/s (reached)  lag p50 ms  lag p95 ms  lag max ms  pending max");
        foreach (int rate in rates)
        {
            await using PostgresBench bench = await PostgresBench.StartAsync();
            var (services, repository, dispatcher) = await OutboxRepositories.BuildAsync(
                bench,
                WriteBackMode.Async,
                dispatchOnWrite: true
            );
            await using (services)
            {
                await MeasureAsync(rate, TimeSpan.FromSeconds(seconds), repository, dispatcher);
            }
        }
    }

    private static async Task MeasureAsync(
        int rate,
        TimeSpan duration,
        IMigratingRepository<OldProfile, NewProfile> repository,
        IMigrationDispatcher<OldProfile, NewProfile> dispatcher
    )
    {
        using var stop = new CancellationTokenSource();
        var lags = new List<double>();
        long pendingMax = 0;
        Task sampler = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(SampleEvery);
            while (await tick.WaitForNextTickAsync(CancellationToken.None) && !stop.IsCancellationRequested)
            {
                OutboxStatistics statistics = await dispatcher.GetStatisticsAsync();
                long pending = statistics.Pending.GetValueOrDefault(OutboxItemKind.WriteBack);
                pendingMax = Math.Max(pendingMax, pending);
                lags.Add(
                    statistics.OldestPendingRecordedAt.TryGetValue(OutboxItemKind.WriteBack, out var oldest)
                        ? Math.Max(0, (DateTimeOffset.UtcNow - oldest).TotalMilliseconds)
                        : 0
                );
            }
        });

        // Writers keep to the schedule of the rate: save n is due at n / rate seconds from the start.
        var clock = Stopwatch.StartNew();
        long next = -1;
        long total = (long)(rate * duration.TotalSeconds);
        await ConcurrentWork.RunAsync(
            8,
            8,
            async _ =>
            {
                for (long n = Interlocked.Increment(ref next); n < total; n = Interlocked.Increment(ref next))
                {
                    TimeSpan due = TimeSpan.FromSeconds((double)n / rate) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due);
                    }

                    string id = $"lag{n:D8}";
                    await repository.SaveAsync(id, new NewProfile(id, "Ada", "Lovelace", 36));
                }
            }
        );
        double reached = total / clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        await dispatcher.DrainAsync();
        lags.Sort();
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{rate, 14}  {reached, 16:F0}  {Percentile(lags, 0.50), 10:F0}  {Percentile(lags, 0.95), 10:F0}  "
                    + $"{lags[^1], 10:F0}  {pendingMax, 11}"
            )
        );
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
