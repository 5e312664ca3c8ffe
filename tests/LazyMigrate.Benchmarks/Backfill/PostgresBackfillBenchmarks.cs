using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.Benchmarks.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>
/// The backfill on PostgreSQL: every operation migrates the whole legacy table (<see cref="Rows"/> rows of typed
/// columns, read by <c>PostgreSqlTableOldStore</c>) into an empty <c>PostgreSqlNewStore</c> table of the same
/// database. The reported time is per row (its inverse is rows per second). The baseline is the hand-written loop
/// (<see cref="HandWrittenBackfill"/>); the LazyMigrate backfill runs once per way of locking. Each iteration starts
/// from an empty new table and, for the backfill, a container of its own: a fresh in-memory checkpoint.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class PostgresBackfillBenchmarks
{
    private const int Ops = 100_000;

    private PostgresBench _bench = null!;
    private HandWrittenBackfill _handWritten = null!;
    private BackfillChoice? _choice;
    private ServiceProvider? _services;
    private IBackfillRunner<LegacyCustomer, BackfilledCustomer>? _runner;

    /// <summary>Gets or sets the rows of the legacy table; change <see cref="Ops"/> along with it.</summary>
    [Params(Ops)]
    public int Rows { get; set; }

    [GlobalSetup(Targets = [nameof(HandWritten), nameof(HandWrittenControl)])]
    public Task SetupHandWrittenAsync() => SetupAsync(null);

    [GlobalSetup(Target = nameof(BackfillDefaultLock))]
    public Task SetupDefaultLockAsync() => SetupAsync(BackfillChoice.DefaultLock);

    [GlobalSetup(Target = nameof(BackfillWithoutLock))]
    public Task SetupWithoutLockAsync() => SetupAsync(BackfillChoice.WithoutLock);

    [GlobalSetup(Target = nameof(BackfillAdvisoryLock))]
    public Task SetupAdvisoryLockAsync() => SetupAsync(BackfillChoice.AdvisoryLock);

    [GlobalSetup(Target = nameof(BackfillDefaultOptions))]
    public Task SetupDefaultOptionsAsync() => SetupAsync(BackfillChoice.DefaultOptions);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        await _bench.DisposeAsync();
    }

    [IterationSetup]
    public void EmptyNewTable()
    {
        PostgresBackfill.TruncateAsync(_bench.DataSource).GetAwaiter().GetResult();
        if (_choice is { } choice)
        {
            _services?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _services = PostgresBackfill.Build(_bench.DataSource, choice);
            _runner = PostgresBackfill.Runner(_services);
        }
    }

    [IterationCleanup]
    public void CheckEveryRowMigrated() => PostgresBackfill.CheckCount(_bench.DataSource, Rows);

    /// <summary>The hand-written loop.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public Task<long> HandWritten() => _handWritten.RunAsync();

    /// <summary>
    /// The baseline's very code again, in a process and on a server of its own: an A/A control. How far its row lands
    /// from 1.00 is how far apart this table puts the same code, and so the least difference it can tell.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> HandWrittenControl() => _handWritten.RunAsync();

    /// <summary>The backfill with the default lock (the new store's own), batches of 1,000.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillDefaultLock() => BackfillAsync();

    /// <summary>The backfill with <c>UseLock = false</c>, batches of 1,000.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillWithoutLock() => BackfillAsync();

    /// <summary>The backfill with the adapter's advisory lock provider, batches of 1,000.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillAdvisoryLock() => BackfillAsync();

    /// <summary>The backfill with the default lock and the default (adaptive) backfill options.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillDefaultOptions() => BackfillAsync();

    private async Task SetupAsync(BackfillChoice? choice)
    {
        _choice = choice;
        _bench = await PostgresBench.StartAsync();
        await LegacyCustomers.CreateAsync(_bench.DataSource, Rows);
        await PostgresBackfill.CreateNewTableAsync(_bench.DataSource);
        _handWritten = new HandWrittenBackfill(_bench.DataSource);
    }

    private async Task<long> BackfillAsync()
    {
        BackfillSummary summary = await _runner!.RunAsync();
        return summary.IsComplete ? summary.Counts.Migrated : throw new InvalidOperationException("Not complete.");
    }
}
