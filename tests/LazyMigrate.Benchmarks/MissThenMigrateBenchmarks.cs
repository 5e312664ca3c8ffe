using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// The lazy migration: every measured read is of an id that is in the old store only, so it migrates (repository:
/// single-flight, lock, re-check, old read, map, insert-if-absent, event). Before each iteration both sides get fresh
/// stores, with the old one seeded with exactly the ids the iteration reads, so every read migrates and memory stays
/// flat. The baseline is <see cref="NaiveMigratingReader"/> over the same in-memory stores.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(
    RunStrategy.Throughput,
    launchCount: 1,
    warmupCount: 3,
    iterationCount: 10,
    invocationCount: ReadsPerIteration
)]
public class MissThenMigrateBenchmarks
{
    private const int ReadsPerIteration = 65_536;

    private readonly string[] _ids = new string[ReadsPerIteration];
    private readonly OldProfile[] _olds = new OldProfile[ReadsPerIteration];
    private int _next;

    private InMemoryNewStore<NewProfile> _naiveNew = null!;
    private NaiveMigratingReader _naive = null!;
    private InMemoryNewStore<NewProfile> _repositoryNew = null!;
    private ServiceProvider? _services;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private int _events;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < ReadsPerIteration; i++)
        {
            _ids[i] = $"user-{i:D6}";
            _olds[i] = new OldProfile(_ids[i], "Ada Lovelace", 36);
        }
    }

    /// <summary>Fresh stores and a fresh container for both sides; not measured.</summary>
    [IterationSetup]
    public void FreshStores()
    {
        _services?.Dispose();
        _naiveNew = new InMemoryNewStore<NewProfile>();
        _naive = new NaiveMigratingReader(SeededOldStore(), _naiveNew);

        _repositoryNew = new InMemoryNewStore<NewProfile>();
        (_services, _repository) = InMemoryRepositories.Build(
            _repositoryNew,
            builder =>
                builder.OnMigrated(
                    (_, _) =>
                    {
                        _events++;
                        return ValueTask.CompletedTask;
                    }
                ),
            SeededOldStore()
        );

        _next = 0;
        _events = 0;
    }

    /// <summary>
    /// Fails the run unless every read of the iteration inserted its entity and the repository raised one event per
    /// insert.
    /// </summary>
    [IterationCleanup]
    public void CheckEveryReadMigrated()
    {
        int inserts = _naiveNew.InsertCount + _repositoryNew.InsertCount;
        if (inserts != _next || _events != _repositoryNew.InsertCount)
        {
            throw new InvalidOperationException(
                $"{_next} reads made {inserts} inserts; "
                    + $"{_events} events for {_repositoryNew.InsertCount} repository inserts."
            );
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services?.Dispose();

    /// <summary>Read new (miss), read old, map, insert-if-absent: no lock, no single-flight.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<NewProfile?> NaiveDecorator() => await _naive.GetAsync(_ids[_next++]);

    /// <summary>The same read through the repository, which migrates the entity.</summary>
    [Benchmark]
    public async ValueTask<NewProfile?> RepositoryGet() => await _repository.GetAsync(_ids[_next++]);

    private InMemoryOldStore<OldProfile> SeededOldStore()
    {
        var store = new InMemoryOldStore<OldProfile>();
        for (int i = 0; i < ReadsPerIteration; i++)
        {
            store.Seed(_ids[i], _olds[i]);
        }

        return store;
    }
}
