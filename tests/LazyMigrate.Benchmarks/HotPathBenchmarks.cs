using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// The hot path: reads of an entity that is already in the new store. The baseline reads the in-memory new store
/// directly, and an A/A control row reads it again the same way; the repository, built through DI as a user builds it
/// with the default options, reads the same store. The difference is what LazyMigrate adds (the target, in
/// docs/benchmarks.md: 0 bytes allocated and at most 100 ns). A last row runs the same repository with an empty
/// new-store resilience pipeline (<c>ResiliencePipeline.Empty</c>): no resilience at all, so the difference to the
/// default row is what the default resilience costs a read that succeeds (for a store that answers later, the bound on
/// the direct first attempt).
/// </summary>
/// <remarks>
/// <see cref="Answers"/> picks the store: the in-memory store itself, which answers at once, or
/// <see cref="YieldingNewStore{TNew}"/>, which answers later as a database driver does, so that the cost of the awaits
/// between the caller and the store shows without a server's noise. Each invocation reads
/// <see cref="ReadsPerInvocation"/> times, so BenchmarkDotNet's wait for an invocation is paid once per loop.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class HotPathBenchmarks
{
    private const string Id = "user-42";
    private const int ReadsPerInvocation = 1000;

    private INewStore<NewProfile> _store = null!;
    private ServiceProvider _services = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private ServiceProvider _servicesWithoutResilience = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repositoryWithoutResilience = null!;

    /// <summary>How the store answers a read.</summary>
    public enum StoreAnswer
    {
        /// <summary>At once: the in-memory store's completed <see cref="ValueTask{TResult}"/>.</summary>
        AtOnce,

        /// <summary>Later, after giving up the thread, as a database driver does.</summary>
        Later,
    }

    [Params(StoreAnswer.AtOnce, StoreAnswer.Later)]
    public StoreAnswer Answers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var inMemory = new InMemoryNewStore<NewProfile>();
        inMemory.Seed(Id, new NewProfile(Id, "Ada", "Lovelace", 36));
        _store = Answers == StoreAnswer.AtOnce ? inMemory : new YieldingNewStore<NewProfile>(inMemory);

        (_services, _repository) = InMemoryRepositories.Build(_store, _ => { });
        (_servicesWithoutResilience, _repositoryWithoutResilience) = InMemoryRepositories.Build(
            _store,
            builder => builder.UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)
        );
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _servicesWithoutResilience.Dispose();
    }

    /// <summary>Direct reads of the new store.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = ReadsPerInvocation)]
    public async Task DirectNewStoreRead()
    {
        for (int i = 0; i < ReadsPerInvocation; i++)
        {
            _ = (await _store.FindAsync(Id)).Value ?? throw new InvalidOperationException($"{Id} is missing.");
        }
    }

    /// <summary>
    /// The baseline's very code again: an A/A control. How far its row lands from 1.00 is the least difference this run
    /// can tell.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ReadsPerInvocation)]
    public async Task DirectNewStoreReadControl()
    {
        for (int i = 0; i < ReadsPerInvocation; i++)
        {
            _ = (await _store.FindAsync(Id)).Value ?? throw new InvalidOperationException($"{Id} is missing.");
        }
    }

    /// <summary>
    /// The same reads through <see cref="IMigratingRepository{TOld, TNew}.GetAsync"/>, with the default options.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ReadsPerInvocation)]
    public Task RepositoryGet() => ReadAllAsync(_repository);

    /// <summary>
    /// The same reads with <see cref="ResiliencePipeline.Empty"/> for the new store: the call goes straight to the
    /// store, with no bound on a call that answers later.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ReadsPerInvocation)]
    public Task RepositoryGetWithEmptyNewStorePipeline() => ReadAllAsync(_repositoryWithoutResilience);

    private static async Task ReadAllAsync(IMigratingRepository<OldProfile, NewProfile> repository)
    {
        for (int i = 0; i < ReadsPerInvocation; i++)
        {
            _ = await repository.GetAsync(Id) ?? throw new InvalidOperationException($"{Id} is missing.");
        }
    }
}
