using System.Diagnostics;
using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// A quick, rough comparison for development, not a benchmark of record: every way of migrating runs in one process on
/// one server, round after round in alternating order, so that the drift of a noisy machine hits all of them alike.
/// The figures of record come from BenchmarkDotNet (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// <c>--probe [rounds]</c> prints the median time per entity of each way and its throughput against the naive
/// decorator, at concurrency 1 and 8; <c>--only A,B</c> keeps some ways, <c>--concurrency N</c> one concurrency, and
/// <c>--commands</c> prints instead the round trips of each way at concurrency 1 (<see cref="CommandTimings"/>).
/// <c>--hot</c> compares instead reads of a migrated entity, direct and through the repository. Every way has a
/// connection pool of its own (<see cref="PostgresBench.OwnPool"/>), as it has in a process of its own.
/// </remarks>
internal static class InterleavedThroughputProbe
{
    private const int EntitiesPerRound = 400;

    public static async Task RunAsync(string[] args)
    {
        int rounds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out int given) ? given : 15;
        await using PostgresBench bench = await PostgresBench.StartAsync();
        var services = new List<ServiceProvider>();
        try
        {
            var ways = new List<(string Name, Func<string, Task<NewProfile?>> Read)>
            {
                ("Naive", new NaivePostgresMigrator(bench.OwnPool()).GetAsync),
                ("NaiveAutoPrepared", new NaivePostgresMigrator(bench.AutoPreparingDataSource).GetAsync),
            };
            foreach (LockChoice choice in Enum.GetValues<LockChoice>())
            {
                ways.Add((choice.ToString(), await RepositoryAsync(bench, choice, services)));
            }

            ways.Add(("NoneEmptyPipelines", await RepositoryAsync(bench, LockChoice.None, services, b => b
                .UseResilience(MigrationRole.OldStore, ResiliencePipeline.Empty)
                .UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty))));
            if (Array.IndexOf(args, "--only") is var only and >= 0)
            {
                string[] names = args[only + 1].Split(',');
                ways.RemoveAll(w => !names.Contains(w.Name));
            }

            if (args.Contains("--hot"))
            {
                await CompareHotPathAsync(bench, services, rounds);
                return;
            }

            if (args.Contains("--commands"))
            {
                await PrintCommandsAsync(bench, ways);
                return;
            }

            int[] concurrencies = Array.IndexOf(args, "--concurrency") is var c and >= 0 ? [int.Parse(args[c + 1], CultureInfo.InvariantCulture)] : [1, 8];
            foreach (int concurrency in concurrencies)
            {
                await CompareAsync(bench, ways, concurrency, rounds);
            }
        }
        finally
        {
            foreach (ServiceProvider provider in services)
            {
                await provider.DisposeAsync();
            }
        }
    }

    private static async Task<Func<string, Task<NewProfile?>>> RepositoryAsync(PostgresBench bench, LockChoice choice, List<ServiceProvider> services, Action<ILazyMigrationBuilder<OldProfile, NewProfile>>? configure = null)
    {
        var (provider, repository) = await PostgresRepositories.BuildAsync(bench, choice, configure, bench.OwnPool());
        services.Add(provider);
        return id => repository.GetAsync(id).AsTask();
    }

    private static async Task CompareAsync(PostgresBench bench, List<(string Name, Func<string, Task<NewProfile?>> Read)> ways, int concurrency, int rounds)
    {
        var times = ways.ToDictionary(w => w.Name, _ => new List<double>());
        for (int round = 0; round <= rounds; round++)
        {
            foreach (var (name, read) in round % 2 == 0 ? ways : Enumerable.Reverse(ways))
            {
                string[] ids = await bench.SeedLegacyAsync(EntitiesPerRound);
                long started = Stopwatch.GetTimestamp();
                await ConcurrentReads.RunAsync(ids, concurrency, read);

                // Round 0 warms every way up (JIT, pools, prepared statements) and is not counted.
                if (round > 0)
                {
                    times[name].Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds / EntitiesPerRound);
                }
            }
        }

        double naive = times.TryGetValue("Naive", out List<double>? naiveTimes) ? Median(naiveTimes) : double.NaN;
        foreach (var (name, list) in times)
        {
            double median = Median(list);
            Console.WriteLine($"c={concurrency} {name,-18} median {median,8:F1} us/entity  throughput x{naive / median:F2} of Naive  (min {list.Min():F1}, max {list.Max():F1})");
        }
    }

    /// <summary>
    /// Reads one migrated entity, directly from the store and through the repository, in alternating rounds of 2,000
    /// reads each, and prints the median round of each with their ratio.
    /// </summary>
    private static async Task CompareHotPathAsync(PostgresBench bench, List<ServiceProvider> services, int rounds)
    {
        const int readsPerRound = 2000;
        var (provider, repository) = await PostgresRepositories.BuildAsync(bench, LockChoice.NewStoreLock);
        services.Add(provider);
        INewStore<NewProfile> store = provider.GetRequiredService<INewStore<NewProfile>>();
        await repository.SaveAsync("hot-1", new NewProfile("hot-1", "Ada", "Lovelace", 36));
        var ways = new List<(string Name, Func<Task> Read)>
        {
            ("DirectStoreRead", async () => _ = (await store.FindAsync("hot-1")).Value ?? throw new InvalidOperationException("hot-1 is missing")),
            ("RepositoryGet", async () => _ = await repository.GetAsync("hot-1") ?? throw new InvalidOperationException("hot-1 is missing")),
        };
        var times = ways.ToDictionary(w => w.Name, _ => new List<double>());
        for (int round = 0; round <= rounds; round++)
        {
            foreach (var (name, read) in round % 2 == 0 ? ways : Enumerable.Reverse(ways))
            {
                long started = Stopwatch.GetTimestamp();
                for (int i = 0; i < readsPerRound; i++)
                {
                    await read();
                }

                if (round > 0)
                {
                    times[name].Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds / readsPerRound);
                }
            }
        }

        double direct = Median(times["DirectStoreRead"]);
        foreach (var (name, list) in times)
        {
            Console.WriteLine($"hot {name,-16} median {Median(list),7:F2} us/read  x{Median(list) / direct:F3} of the direct read  (min {list.Min():F2}, max {list.Max():F2})");
        }
    }

    private static async Task PrintCommandsAsync(PostgresBench bench, List<(string Name, Func<string, Task<NewProfile?>> Read)> ways)
    {
        foreach (var (name, read) in ways)
        {
            string[] warmUp = await bench.SeedLegacyAsync(EntitiesPerRound);
            await ConcurrentReads.RunAsync(warmUp, 1, read);
            string[] ids = await bench.SeedLegacyAsync(EntitiesPerRound);
            using var timings = new CommandTimings();
            await ConcurrentReads.RunAsync(ids, 1, read);
            timings.Print(name, EntitiesPerRound);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
