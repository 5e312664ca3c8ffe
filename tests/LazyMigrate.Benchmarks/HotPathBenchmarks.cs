using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// The hot path: one read of an entity that is already in the new store. The baseline reads the in-memory new store
/// directly; the repository, built through DI as a user builds it, reads the same store. The difference is what
/// LazyMigrate adds (DESIGN.md: 0 bytes allocated and at most 100 ns). A third row runs the same repository with an
/// empty new-store resilience pipeline (<c>ResiliencePipeline.Empty</c>, which the repository skips), to show what the
/// default pipeline (retry and timeout) costs.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class HotPathBenchmarks
{
    private const string Id = "user-42";

    private readonly InMemoryNewStore<NewProfile> _store = new();
    private ServiceProvider _services = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private ServiceProvider _servicesWithoutResilience = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repositoryWithoutResilience = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store.Seed(Id, new NewProfile(Id, "Ada", "Lovelace", 36));

        (_services, _repository) = Build(_ => { });
        (_servicesWithoutResilience, _repositoryWithoutResilience) = Build(builder => builder.UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _servicesWithoutResilience.Dispose();
    }

    /// <summary>A direct read of the new store.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<NewProfile?> DirectNewStoreRead() => (await _store.FindAsync(Id)).Value;

    /// <summary>The same read through <see cref="IMigratingRepository{TOld, TNew}.GetAsync"/>.</summary>
    [Benchmark]
    public async ValueTask<NewProfile?> RepositoryGet() => await _repository.GetAsync(Id);

    /// <summary>The same read with <see cref="ResiliencePipeline.Empty"/> for the new store: the call goes straight to the store.</summary>
    [Benchmark]
    public async ValueTask<NewProfile?> RepositoryGetWithEmptyNewStorePipeline() => await _repositoryWithoutResilience.GetAsync(Id);

    /// <summary>Builds the repository exactly as a user does: AddLazyMigration, the Use... calls, BuildServiceProvider.</summary>
    private (ServiceProvider Services, IMigratingRepository<OldProfile, NewProfile> Repository) Build(Action<ILazyMigrationBuilder<OldProfile, NewProfile>> configure)
    {
        var services = new ServiceCollection();
        ILazyMigrationBuilder<OldProfile, NewProfile> builder = services.AddLazyMigration<OldProfile, NewProfile>()
            .UseMapper(NewProfile.From)
            .UseInMemoryOldStore(new InMemoryOldStore<OldProfile>())
            .UseInMemoryNewStore(_store)
            .UseInMemoryLock();
        configure(builder);
        ServiceProvider provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IMigratingRepository<OldProfile, NewProfile>>());
    }
}
