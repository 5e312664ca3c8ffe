using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// Saves on PostgreSQL with <see cref="WriteBackMode.Async"/> write-back beside saves without write-back, the
/// baseline. Each invocation saves <see cref="SavesPerInvocation"/> entities with <see cref="Concurrency"/> concurrent
/// writers; the reported time is per save. An <c>Async</c> save returns once its upsert, which records the write-back
/// in the entity's row, is committed; the dispatcher is not running while saves are timed (it drains between
/// iterations), so the figure is the cost a save pays, not the write-back's. <see cref="SaveWithoutWriteBackControl"/>
/// runs the baseline's code again, as the A/A control. The target (docs/benchmarks.md): at least 0.85.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 5, iterationCount: 20, invocationCount: 1)]
public class PostgresOutboxSaveBenchmarks
{
    private const int SavesPerInvocation = 1000;

    private PostgresBench _bench = null!;
    private ServiceProvider _services = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private IMigrationDispatcher<OldProfile, NewProfile> _dispatcher = null!;
    private NewProfile[] _profiles = [];
    private int _iteration;

    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup(Targets = [nameof(SaveWithoutWriteBack), nameof(SaveWithoutWriteBackControl)])]
    public Task SetupWithoutWriteBackAsync() => SetupAsync(WriteBackMode.None);

    [GlobalSetup(Target = nameof(SaveWithAsyncWriteBack))]
    public Task SetupAsyncWriteBackAsync() => SetupAsync(WriteBackMode.Async);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        await _bench.DisposeAsync();
    }

    /// <summary>Every save of an iteration writes a value the entity did not have.</summary>
    [IterationSetup]
    public void NextValues()
    {
        int age = ++_iteration;
        _profiles = Enumerable
            .Range(0, SavesPerInvocation)
            .Select(i => new NewProfile($"s{i:D6}", "Ada", "Lovelace", age))
            .ToArray();
    }

    /// <summary>Drains what the iteration recorded, so that every iteration starts from an empty outbox.</summary>
    [IterationCleanup]
    public void Drain() => _dispatcher.DrainAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Saves without write-back.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = SavesPerInvocation)]
    public Task SaveWithoutWriteBack() => SaveAllAsync();

    /// <summary>The baseline's code again, the A/A control: the least difference a run can resolve.</summary>
    [Benchmark(OperationsPerInvoke = SavesPerInvocation)]
    public Task SaveWithoutWriteBackControl() => SaveAllAsync();

    /// <summary>Saves with <see cref="WriteBackMode.Async"/> write-back through the PostgreSQL outbox.</summary>
    [Benchmark(OperationsPerInvoke = SavesPerInvocation)]
    public Task SaveWithAsyncWriteBack() => SaveAllAsync();

    private async Task SetupAsync(WriteBackMode mode)
    {
        _bench = await PostgresBench.StartAsync();
        (_services, _repository, _dispatcher) = await OutboxRepositories.BuildAsync(_bench, mode);
    }

    private Task SaveAllAsync() =>
        ConcurrentWork.RunAsync(
            _profiles.Length,
            Concurrency,
            i => _repository.SaveAsync(_profiles[i].Id, _profiles[i]).AsTask()
        );
}
