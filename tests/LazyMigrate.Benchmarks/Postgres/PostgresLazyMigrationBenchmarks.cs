using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// Lazy migration on PostgreSQL: every read asks for an id only the old table holds, so every read migrates it.
/// Each invocation migrates <see cref="EntitiesPerInvocation"/> fresh ids with <see cref="Concurrency"/> concurrent
/// readers; the reported time is per entity (its inverse is entities per second). The baseline is the hand-written
/// naive decorator (<see cref="NaivePostgresMigrator"/>); the repository runs once per way of locking. The targets
/// (docs/benchmarks.md): at least 0.75 times the naive code with a lock, and no slower than it without one.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 5, iterationCount: 20, invocationCount: 1)]
public class PostgresLazyMigrationBenchmarks
{
    private const int EntitiesPerInvocation = 1000;

    private PostgresBench _bench = null!;
    private ServiceProvider? _services;
    private Func<string, Task<NewProfile?>> _read = null!;
    private string[] _ids = [];

    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup(Target = nameof(NaiveDecorator))]
    public Task SetupNaiveAsync() => SetupAsync(naive: true, LockChoice.None);

    [GlobalSetup(Target = nameof(NaiveDecoratorControl))]
    public Task SetupNaiveControlAsync() => SetupAsync(naive: true, LockChoice.None);

    [GlobalSetup(Target = nameof(NaiveDecoratorAutoPrepared))]
    public Task SetupNaiveAutoPreparedAsync() => SetupAsync(naive: true, LockChoice.None, autoPrepare: true);

    [GlobalSetup(Target = nameof(RepositoryWithoutLock))]
    public Task SetupWithoutLockAsync() => SetupAsync(naive: false, LockChoice.None);

    [GlobalSetup(Target = nameof(RepositoryWithAdvisoryLock))]
    public Task SetupAdvisoryLockAsync() => SetupAsync(naive: false, LockChoice.AdvisoryLock);

    [GlobalSetup(Target = nameof(RepositoryWithDistributedLock))]
    public Task SetupDistributedLockAsync() => SetupAsync(naive: false, LockChoice.DistributedLock);

    [GlobalSetup(Target = nameof(RepositoryWithNewStoreLock))]
    public Task SetupNewStoreLockAsync() => SetupAsync(naive: false, LockChoice.NewStoreLock);

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
    public void SeedFreshIds() => _ids = _bench.SeedLegacyAsync(EntitiesPerInvocation).GetAwaiter().GetResult();

    [IterationCleanup]
    public void CheckEveryIdMigrated()
    {
        // Count what the new table holds for this iteration's ids: every read must have migrated its entity.
        using var count = _bench.DataSource.CreateCommand(
            $"SELECT count(*) FROM {PostgresBench.NewTable} WHERE id = ANY($1) AND NOT deleted"
        );
        count.Parameters.Add(new Npgsql.NpgsqlParameter { Value = _ids });
        long migrated = (long)count.ExecuteScalar()!;
        if (migrated != _ids.Length)
        {
            throw new InvalidOperationException($"{migrated} of {_ids.Length} entities reached the new table.");
        }
    }

    /// <summary>The naive decorator.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = EntitiesPerInvocation)]
    public Task NaiveDecorator() => ReadAllAsync();

    /// <summary>
    /// The baseline's very code again, in processes and on servers of its own: an A/A control. How far its row lands
    /// from 1.00 is how far apart this table puts the same code, and so the least difference it can tell.
    /// </summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task NaiveDecoratorControl() => ReadAllAsync();

    /// <summary>
    /// The naive decorator on a data source that prepares its statements automatically (<c>Max Auto Prepare</c>), for
    /// reference: the repository's stores prepare theirs on any data source.
    /// </summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task NaiveDecoratorAutoPrepared() => ReadAllAsync();

    /// <summary>The repository on insert-if-absent alone (UseLock = false).</summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task RepositoryWithoutLock() => ReadAllAsync();

    /// <summary>The repository with the adapter's advisory lock provider.</summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task RepositoryWithAdvisoryLock() => ReadAllAsync();

    /// <summary>The repository with DistributedLock.Postgres.</summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task RepositoryWithDistributedLock() => ReadAllAsync();

    /// <summary>The repository with the new store's own lock (UseNewStoreLock).</summary>
    [Benchmark(OperationsPerInvoke = EntitiesPerInvocation)]
    public Task RepositoryWithNewStoreLock() => ReadAllAsync();

    private async Task SetupAsync(bool naive, LockChoice locking, bool autoPrepare = false)
    {
        _bench = await PostgresBench.StartAsync();

        // For the naive code the repository only creates the tables; the naive code then reads and writes them
        // directly.
        (_services, var repository) = await PostgresRepositories.BuildAsync(_bench, locking);
        _read = naive
            ? new NaivePostgresMigrator(autoPrepare ? _bench.AutoPreparingDataSource : _bench.DataSource).GetAsync
            : id => repository.GetAsync(id).AsTask();
    }

    private Task ReadAllAsync() => ConcurrentReads.RunAsync(_ids, Concurrency, _read);
}
