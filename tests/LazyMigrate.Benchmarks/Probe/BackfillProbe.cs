using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Backfill;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.PostgreSql;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// One backfill of a PostgreSQL legacy table of N rows, in this process alone, for its memory and for where its time
/// goes: <c>--probe-backfill N [default|nolock|advisory|hand] [--trace]</c>. It reports rows/s, the process's CPU
/// time, the bytes allocated per row, the largest managed heap sampled during the run and the heap after it (after a
/// full collection); with <c>--trace</c>, every Npgsql command's statement, count and total time (an
/// <see cref="ActivityListener"/> on the <c>Npgsql</c> source), grouped by the statement's start, and the time of a
/// bare <c>ScanAsync</c> of the table store over the same table. Run one process per size, as each measures its own
/// heap.
/// </summary>
internal static class BackfillProbe
{
    public static async Task RunAsync(string[] args)
    {
        int rows = int.Parse(args[1], CultureInfo.InvariantCulture);
        string mode = args.Length > 2 && !args[2].StartsWith("--", StringComparison.Ordinal) ? args[2] : "default";
        bool trace = args.Contains("--trace");
        await using PostgresBench bench = await PostgresBench.StartAsync();
        await LegacyCustomers.CreateAsync(bench.DataSource, rows);
        await PostgresBackfill.CreateNewTableAsync(bench.DataSource);

        // A first, small run compiles and warms everything (tiered compilation is off when run as documented), then
        // the table is emptied and the measured run gets a fresh container.
        await RunOnceAsync(bench, mode, warmUpOnly: true);
        await PostgresBackfill.TruncateAsync(bench.DataSource);

        var statements = new ConcurrentDictionary<string, (long Count, double Milliseconds)>();
        using ActivityListener? listener = trace ? Listen(statements) : null;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        MachineCpu machineBefore = MachineCpu.Now();
        int gen0 = GC.CollectionCount(0),
            gen1 = GC.CollectionCount(1),
            gen2 = GC.CollectionCount(2);
        using var sampling = new CancellationTokenSource();
        Task<long> peakHeap = SamplePeakHeapAsync(sampling.Token);
        var clock = Stopwatch.StartNew();
        long migrated = await RunOnceAsync(bench, mode, warmUpOnly: false);
        clock.Stop();
        MachineCpu machine = MachineCpu.Now() - machineBefore;
        await sampling.CancelAsync();
        long peak = await peakHeap;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        PostgresBackfill.CheckCount(bench.DataSource, rows);
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);

        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{mode}: {rows:N0} rows ({migrated:N0} migrated) in {clock.Elapsed.TotalSeconds:F2} s = "
                    + $"{rows / clock.Elapsed.TotalSeconds:N0} rows/s; client CPU {cpu.TotalSeconds:F2} s "
                    + $"({cpu.TotalSeconds / clock.Elapsed.TotalSeconds:P0} of one core)"
            )
        );
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"  allocated {allocated / 1048576.0:N1} MiB = {allocated / (double)rows:N0} B/row; GCs gen0 "
                    + $"{GC.CollectionCount(0) - gen0}, gen1 {GC.CollectionCount(1) - gen1}, gen2 "
                    + $"{GC.CollectionCount(2) - gen2}; managed heap before {heapBefore / 1048576.0:N1} MiB, "
                    + $"peak sampled {peak / 1048576.0:N1} MiB, after (full GC) {heapAfter / 1048576.0:N1} MiB; "
                    + $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB"
            )
        );
        Console.WriteLine($"  {machine}");
        if (trace)
        {
            double traced = 0;
            foreach (var (statement, (count, ms)) in statements.OrderByDescending(s => s.Value.Milliseconds))
            {
                traced += ms;
                Console.WriteLine(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"  {ms, 9:N0} ms {count, 7:N0}x {ms / count, 7:F2} ms  {statement}"
                    )
                );
            }

            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {traced, 9:N0} ms in commands; {clock.Elapsed.TotalMilliseconds - traced:N0} ms elsewhere"
                )
            );
            await ScanAloneAsync(bench, rows);
        }
    }

    private static async Task<long> RunOnceAsync(PostgresBench bench, string mode, bool warmUpOnly)
    {
        if (mode == "hand")
        {
            return await new HandWrittenBackfill(bench.DataSource).RunAsync();
        }

        BackfillChoice choice = mode switch
        {
            "nolock" => BackfillChoice.WithoutLock,
            "advisory" => BackfillChoice.AdvisoryLock,
            "adaptive" => BackfillChoice.DefaultOptions,
            _ => BackfillChoice.DefaultLock,
        };
        await using ServiceProvider services = PostgresBackfill.Build(bench.DataSource, choice);
        IBackfillRunner<LegacyCustomer, BackfilledCustomer> runner = PostgresBackfill.Runner(services);
        if (warmUpOnly)
        {
            // Three batches, then stop: enough to compile every path of a batch.
            using var stop = new CancellationTokenSource();
            var progress = new StopAfter(3, stop);
            try
            {
                await runner.RunAsync(progress, stop.Token);
            }
            catch (OperationCanceledException) { }

            return 0;
        }

        BackfillSummary summary = await runner.RunAsync();
        return summary.Counts.Migrated;
    }

    private static async Task ScanAloneAsync(PostgresBench bench, int rows)
    {
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            bench.DataSource,
            new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = LegacyCustomers.Table }
        );
        var clock = Stopwatch.StartNew();
        int scanned = 0;
        await foreach (var _ in store.ScanAsync(null))
        {
            scanned++;
        }

        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"  a bare ScanAsync of the table store: {scanned:N0} of {rows:N0} rows in "
                    + $"{clock.Elapsed.TotalMilliseconds:N0} ms"
            )
        );
    }

    private static ActivityListener Listen(ConcurrentDictionary<string, (long Count, double Milliseconds)> statements)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                string statement = activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
                statement = statement.ReplaceLineEndings(" ");
                string key = statement.Length > 150 ? statement[..150] : statement;
                statements.AddOrUpdate(
                    key,
                    (1, activity.Duration.TotalMilliseconds),
                    (_, s) => (s.Count + 1, s.Milliseconds + activity.Duration.TotalMilliseconds)
                );
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static async Task<long> SamplePeakHeapAsync(CancellationToken cancellationToken)
    {
        long peak = 0;
        try
        {
            while (true)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(10, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            return peak;
        }
    }

    private sealed class StopAfter(int batches, CancellationTokenSource stop) : IProgress<BackfillProgress>
    {
        private int _seen;

        public void Report(BackfillProgress value)
        {
            if (++_seen >= batches)
            {
                stop.Cancel();
            }
        }
    }
}
