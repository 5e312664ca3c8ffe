using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// One dispatcher draining <see cref="WriteBacksPerInvocation"/> pending <see cref="WriteBackMode.Async"/> write-backs
/// from a PostgreSQL outbox into the PostgreSQL old table, beside a hand-written drain (<see
/// cref="HandWrittenOutboxDrain"/>). The saves before each iteration, untimed, leave their write-backs in their rows
/// of the new table (the outbox's claim makes the items of them); the reported time is per write-back (its inverse is
/// write-backs per second). The target (docs/benchmarks.md): at least 3,000 per second.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 3, iterationCount: 15, invocationCount: 1)]
public class PostgresOutboxDrainBenchmarks
{
    private const int WriteBacksPerInvocation = 2000;

    private PostgresBench _bench = null!;
    private ServiceProvider _services = null!;
    private IMigratingRepository<OldProfile, NewProfile> _repository = null!;
    private Func<Task<int>> _drain = null!;
    private int _iteration;

    [GlobalSetup(Target = nameof(HandWrittenDrain))]
    public Task SetupHandWrittenAsync() => SetupAsync(handWritten: true);

    [GlobalSetup(Target = nameof(DispatcherDrain))]
    public Task SetupDispatcherAsync() => SetupAsync(handWritten: false);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        await _bench.DisposeAsync();
    }

    /// <summary>Saves every entity with a value it did not have, recording one write-back each.</summary>
    [IterationSetup]
    public void FillTheOutbox()
    {
        int age = ++_iteration;
        ConcurrentWork
            .RunAsync(
                WriteBacksPerInvocation,
                8,
                i => _repository.SaveAsync(Id(i), new NewProfile(Id(i), "Ada", "Lovelace", age)).AsTask()
            )
            .GetAwaiter()
            .GetResult();
    }

    /// <summary>Every entity reached the old table with this iteration's value.</summary>
    [IterationCleanup]
    public void CheckEveryWriteBackApplied()
    {
        _bench.CheckAges(PostgresBench.OldTable, _iteration, WriteBacksPerInvocation, "write-backs");
    }

    /// <summary>The hand-written drain.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = WriteBacksPerInvocation)]
    public Task HandWrittenDrain() => _drain();

    /// <summary>The core's dispatcher, one instance, with the default <see cref="OutboxOptions"/>.</summary>
    [Benchmark(OperationsPerInvoke = WriteBacksPerInvocation)]
    public Task DispatcherDrain() => _drain();

    private async Task SetupAsync(bool handWritten)
    {
        _bench = await PostgresBench.StartAsync();
        (_services, _repository, var dispatcher) = await OutboxRepositories.BuildAsync(_bench, WriteBackMode.Async);
        _drain = handWritten
            ? HandWrittenOutboxDrain.WriteBacks(_bench.DataSource).DrainAsync
            : async () => await dispatcher.DrainAsync();
    }

    private static string Id(int i) => $"d{i:D6}";
}
