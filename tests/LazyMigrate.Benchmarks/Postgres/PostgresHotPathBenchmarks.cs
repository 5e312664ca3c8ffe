using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The hot path on PostgreSQL: reading an entity already in the new table. The baseline is the adapter's store read
/// itself; the repository, with the default options, adds its checks, the bound on the direct first attempt of its
/// default resilience and a metric. The target (docs/benchmarks.md): within 2% of the direct read.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Throughput, launchCount: 3, warmupCount: 5, iterationCount: 20)]
public class PostgresHotPathBenchmarks
{
    private const string Id = "hot-1";

    private PostgresBench _bench = null!;
    private ServiceProvider _services = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private IMigratingRepository<OldProfile, NewProfile> _withoutNewStorePipeline = null!;
    private ServiceProvider _withoutPipelineServices = null!;
    private INewStore<NewProfile> _store = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _bench = await PostgresBench.StartAsync();
        (_services, _repository) = await PostgresRepositories.BuildAsync(_bench, LockChoice.AdvisoryLock);
        _store = _services.GetRequiredKeyedService<INewStore<NewProfile>>("OldProfile->NewProfile");
        await _repository.SaveAsync(Id, new NewProfile(Id, "Ada", "Lovelace", 36));
        (_withoutPipelineServices, _withoutNewStorePipeline) = await PostgresRepositories.BuildAsync(
            _bench,
            LockChoice.AdvisoryLock,
            b => b.UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)
        );
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        await _withoutPipelineServices.DisposeAsync();
        await _bench.DisposeAsync();
    }

    /// <summary>The adapter's <c>FindAsync</c>, called directly.</summary>
    [Benchmark(Baseline = true)]
    public async Task<NewProfile?> DirectStoreRead() => (await _store.FindAsync(Id)).Value;

    /// <summary>
    /// The baseline's very code again, in processes and on servers of its own: an A/A control. How far its row lands
    /// from 1.00 is how far apart this table puts the same code, and so the least difference it can tell.
    /// </summary>
    [Benchmark]
    public async Task<NewProfile?> DirectStoreReadControl() => (await _store.FindAsync(Id)).Value;

    /// <summary>The same read through the repository, with the default options.</summary>
    [Benchmark]
    public async Task<NewProfile?> RepositoryGet() => await _repository.GetAsync(Id);

    /// <summary>
    /// The same read through a repository whose new store has <see cref="ResiliencePipeline.Empty"/> for its pipeline
    /// (<c>UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)</c>): LazyMigrate's own cost, without the
    /// default retry and per-attempt timeout.
    /// </summary>
    [Benchmark]
    public async Task<NewProfile?> RepositoryGetWithEmptyNewStorePipeline() =>
        await _withoutNewStorePipeline.GetAsync(Id);
}
