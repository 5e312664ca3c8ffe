using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.Benchmarks.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>
/// The backfill on EF Core with SQLite: every operation migrates the whole legacy table (<see cref="Rows"/> rows of
/// typed columns, read by <c>EntityFrameworkCoreOldStore</c>) into an empty <c>EntityFrameworkCoreNewStore</c> table
/// of the same SQLite file (write-ahead log, in a temporary folder). The reported time is per row (its inverse is
/// rows per second). The baseline is the hand-written Microsoft.Data.Sqlite loop (<see
/// cref="HandWrittenSqliteBackfill"/>), measured in the same run, so the ratio says what the backfill's guarantees
/// (claims in the entries table, insert-if-absent, batches in flight, checkpoints) cost over the least code that
/// copies the rows; the LazyMigrate backfill runs once per <see cref="SqliteBackfillChoice"/>. Each iteration starts
/// from an empty new table and entries table and, for the backfill, a container of its own: a fresh checkpoint.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class SqliteBackfillBenchmarks
{
    private const int Ops = 50_000;

    private SqliteBackfill _bench = null!;
    private HandWrittenSqliteBackfill _handWritten = null!;
    private SqliteBackfillChoice? _choice;
    private ServiceProvider? _services;
    private IBackfillRunner<LegacyCustomer, BackfilledCustomer>? _runner;

    /// <summary>Gets or sets the rows of the legacy table; change <see cref="Ops"/> along with it.</summary>
    [Params(Ops)]
    public int Rows { get; set; }

    [GlobalSetup(Targets = [nameof(HandWritten), nameof(HandWrittenControl)])]
    public Task SetupHandWrittenAsync() => SetupAsync(null);

    [GlobalSetup(Target = nameof(BackfillInMemoryLock))]
    public Task SetupInMemoryLockAsync() => SetupAsync(SqliteBackfillChoice.InMemoryLock);

    [GlobalSetup(Target = nameof(BackfillWithoutLock))]
    public Task SetupWithoutLockAsync() => SetupAsync(SqliteBackfillChoice.WithoutLock);

    [GlobalSetup(Target = nameof(BackfillDatabaseCheckpoints))]
    public Task SetupDatabaseCheckpointsAsync() => SetupAsync(SqliteBackfillChoice.DatabaseCheckpoints);

    [GlobalSetup(Target = nameof(BackfillDefaultOptions))]
    public Task SetupDefaultOptionsAsync() => SetupAsync(SqliteBackfillChoice.DefaultOptions);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _bench.Dispose();
    }

    [IterationSetup]
    public void EmptyNewTable()
    {
        _services?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _bench.EmptyNewTables();
        if (_choice is { } choice)
        {
            _services = _bench.Build(choice);
            _runner = SqliteBackfill.Runner(_services);
        }
    }

    [IterationCleanup]
    public void CheckEveryRowMigrated() => _bench.CheckCount(Rows);

    /// <summary>The hand-written loop.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public Task<long> HandWritten() => _handWritten.RunAsync();

    /// <summary>
    /// The baseline's very code again, in a process and on a file of its own: an A/A control. How far its row lands
    /// from 1.00 is how far apart this table puts the same code, and so the least difference it can tell.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> HandWrittenControl() => _handWritten.RunAsync();

    /// <summary>The backfill with <c>UseInMemoryLock</c>, batches of 1,000, the checkpoint in memory.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillInMemoryLock() => BackfillAsync();

    /// <summary>The backfill with <c>UseLock = false</c>, batches of 1,000, the checkpoint in memory.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillWithoutLock() => BackfillAsync();

    /// <summary>
    /// The backfill with <c>UseInMemoryLock</c>, batches of 1,000, and the checkpoint, its lease and the quarantine in
    /// tables of the same file (<c>UseEntityFrameworkCoreBackfillCheckpoints</c>): what a resumable backfill costs.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillDatabaseCheckpoints() => BackfillAsync();

    /// <summary>The backfill with <c>UseInMemoryLock</c> and the default (adaptive) backfill options.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public Task<long> BackfillDefaultOptions() => BackfillAsync();

    private async Task SetupAsync(SqliteBackfillChoice? choice)
    {
        _choice = choice;
        _bench = await SqliteBackfill.CreateAsync(Rows);
        _handWritten = new HandWrittenSqliteBackfill(_bench.ConnectionString);
    }

    private async Task<long> BackfillAsync()
    {
        BackfillSummary summary = await _runner!.RunAsync();
        return summary.IsComplete ? summary.Counts.Migrated : throw new InvalidOperationException("Not complete.");
    }
}
