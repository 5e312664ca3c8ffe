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
/// <c>--probe [rounds]</c> prints the median time per entity of each way, its throughput against the naive decorator
/// and the client's CPU time, at concurrency 1 and 8, after <see cref="AlternatingRounds.WarmUpRounds"/> uncounted
/// rounds; <c>--only A,B</c> keeps some ways, <c>--concurrency N</c> one concurrency, <c>--rounds</c> also prints every
/// round's time, and <c>--commands</c> prints instead the round trips of each way at concurrency 1
/// (<see cref="CommandTimings"/>). <c>--hot</c> compares instead reads of a migrated entity, direct and through the
/// repository. Every way has a connection pool of its own (<see cref="PostgresBench.OwnPool"/>), as it has in a process
/// of its own.
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

            ways.Add(
                (
                    "NoneEmptyPipelines",
                    await RepositoryAsync(
                        bench,
                        LockChoice.None,
                        services,
                        b =>
                            b.UseResilience(MigrationRole.OldStore, ResiliencePipeline.Empty)
                                .UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)
                    )
                )
            );
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

            int[] concurrencies = Array.IndexOf(args, "--concurrency") is var c and >= 0
                ? [int.Parse(args[c + 1], CultureInfo.InvariantCulture)]
                : [1, 8];
            foreach (int concurrency in concurrencies)
            {
                await CompareAsync(bench, ways, concurrency, rounds, args.Contains("--rounds"));
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

    private static async Task<Func<string, Task<NewProfile?>>> RepositoryAsync(
        PostgresBench bench,
        LockChoice choice,
        List<ServiceProvider> services,
        Action<ILazyMigrationBuilder<OldProfile, NewProfile>>? configure = null
    )
    {
        var (provider, repository) = await PostgresRepositories.BuildAsync(bench, choice, configure, bench.OwnPool());
        services.Add(provider);
        return id => repository.GetAsync(id).AsTask();
    }

    private static async Task CompareAsync(
        PostgresBench bench,
        List<(string Name, Func<string, Task<NewProfile?>> Read)> ways,
        int concurrency,
        int rounds,
        bool printRounds
    )
    {
        var reads = ways.ToDictionary(w => w.Name, w => w.Read);
        AlternatingRounds measured = await AlternatingRounds.RunAsync(
            [.. reads.Keys],
            rounds,
            EntitiesPerRound,
            async way =>
            {
                string[] ids = await bench.SeedLegacyAsync(EntitiesPerRound);
                return () => ConcurrentReads.RunAsync(ids, concurrency, reads[way]);
            }
        );

        double naive = reads.ContainsKey("Naive") ? measured.Median("Naive").Micros : double.NaN;
        foreach (string way in reads.Keys)
        {
            var (micros, cpu, workItems) = measured.Median(way);
            var (min, max) = measured.Range(way);
            Console.WriteLine(
                $"c={concurrency} {way, -18} median {micros, 8:F1} us/entity  "
                    + $"throughput x{naive / micros:F2} of Naive  "
                    + $"(min {min:F1}, max {max:F1})  client CPU {cpu, 6:F1} us/entity, "
                    + $"{workItems:F1} thread-pool work items/entity"
            );
            if (printRounds)
            {
                Console.WriteLine($"  rounds: {measured.Rounds(way)}");
            }
        }
    }

    /// <summary>
    /// Reads one migrated entity directly from the store (twice: the second way is an A/A control), through the
    /// repository with the default options, and through a repository without resilience pipelines, in alternating
    /// rounds of 2,000 reads each, and prints the median round of each.
    /// </summary>
    private static async Task CompareHotPathAsync(PostgresBench bench, List<ServiceProvider> services, int rounds)
    {
        const int readsPerRound = 2000;
        const string id = "hot-1";
        var (provider, repository) = await PostgresRepositories.BuildAsync(bench, LockChoice.NewStoreLock);
        services.Add(provider);
        INewStore<NewProfile> store = provider.GetRequiredKeyedService<INewStore<NewProfile>>("OldProfile->NewProfile");
        await repository.SaveAsync(id, new NewProfile(id, "Ada", "Lovelace", 36));
        var (emptyProvider, withoutPipelines) = await PostgresRepositories.BuildAsync(
            bench,
            LockChoice.NewStoreLock,
            b =>
                b.UseResilience(MigrationRole.OldStore, ResiliencePipeline.Empty)
                    .UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)
        );
        services.Add(emptyProvider);
        var reads = new Dictionary<string, Func<Task<NewProfile?>>>
        {
            ["DirectStoreRead"] = async () => (await store.FindAsync(id)).Value,
            ["DirectControl"] = async () => (await store.FindAsync(id)).Value,
            ["RepositoryGet"] = () => repository.GetAsync(id).AsTask(),
            ["EmptyPipelines"] = () => withoutPipelines.GetAsync(id).AsTask(),
        };
        AlternatingRounds measured = await AlternatingRounds.RunAsync(
            [.. reads.Keys],
            rounds,
            readsPerRound,
            way => Task.FromResult<Func<Task>>(() => ReadRoundAsync(reads[way]))
        );

        async Task ReadRoundAsync(Func<Task<NewProfile?>> read)
        {
            for (int i = 0; i < readsPerRound; i++)
            {
                _ = await read() ?? throw new InvalidOperationException($"{id} is missing.");
            }
        }

        double direct = measured.Median("DirectStoreRead").Micros;
        foreach (string way in reads.Keys)
        {
            var (micros, cpu, _) = measured.Median(way);
            var (min, max) = measured.Range(way);
            Console.WriteLine(
                $"hot {way, -16} median {micros, 7:F2} us/read  x{micros / direct:F3} of the direct read  "
                    + $"(min {min:F2}, max {max:F2})  client CPU {cpu, 6:F1} us/read"
            );
        }
    }

    private static async Task PrintCommandsAsync(
        PostgresBench bench,
        List<(string Name, Func<string, Task<NewProfile?>> Read)> ways
    )
    {
        foreach (var (name, read) in ways)
        {
            for (int round = 0; round < AlternatingRounds.WarmUpRounds; round++)
            {
                await ConcurrentReads.RunAsync(await bench.SeedLegacyAsync(EntitiesPerRound), 1, read);
            }

            string[] ids = await bench.SeedLegacyAsync(EntitiesPerRound);
            using var timings = new CommandTimings();
            await ConcurrentReads.RunAsync(ids, 1, read);
            timings.Print(name, EntitiesPerRound);
        }
    }
}
