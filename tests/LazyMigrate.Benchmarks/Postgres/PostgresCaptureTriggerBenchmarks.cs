using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.PostgreSql;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// What the forward sync capture trigger costs the legacy application: its writes to a legacy table with typed columns
/// (one <c>UPDATE</c> by key each, as plain unprepared commands) with <see cref="PostgreSqlForwardSyncTrigger"/>
/// installed, beside the same writes to the same table without it, the baseline, and the baseline's code again, the
/// A/A control. Each invocation writes <see cref="WritesPerInvocation"/> rows with <see cref="Concurrency"/> writers;
/// the time is per write. The outbox is emptied between iterations (untimed), as a dispatcher that keeps up leaves
/// it, so every write inserts its item. The target (docs/benchmarks.md): at least 0.8.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 5, iterationCount: 20, invocationCount: 1)]
public class PostgresCaptureTriggerBenchmarks
{
    private const int WritesPerInvocation = 1000;
    private const string Table = "legacy_customers";
    private const string Update = $"UPDATE {Table} SET version = $1 WHERE id = $2";

    private PostgresBench _bench = null!;
    private int _iteration;

    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup(Targets = [nameof(LegacyWriteWithoutTrigger), nameof(LegacyWriteWithoutTriggerControl)])]
    public Task SetupWithoutTriggerAsync() => SetupAsync(withTrigger: false);

    [GlobalSetup(Target = nameof(LegacyWriteWithTrigger))]
    public Task SetupWithTriggerAsync() => SetupAsync(withTrigger: true);

    [GlobalCleanup]
    public Task CleanupAsync() => _bench.DisposeAsync().AsTask();

    /// <summary>Empties the outbox, as a dispatcher that keeps up leaves it.</summary>
    [IterationCleanup]
    public void EmptyTheOutbox()
    {
        using NpgsqlCommand delete = _bench.DataSource.CreateCommand(
            $"DELETE FROM {PostgreSqlOutboxOptions.DefaultTableName}"
        );
        delete.ExecuteNonQuery();
    }

    /// <summary>The legacy application's writes, no trigger.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = WritesPerInvocation)]
    public Task LegacyWriteWithoutTrigger() => WriteAllAsync();

    /// <summary>The baseline's code again, the A/A control: the least difference a run can resolve.</summary>
    [Benchmark(OperationsPerInvoke = WritesPerInvocation)]
    public Task LegacyWriteWithoutTriggerControl() => WriteAllAsync();

    /// <summary>The same writes, each recorded as a forward sync item by the capture trigger.</summary>
    [Benchmark(OperationsPerInvoke = WritesPerInvocation)]
    public Task LegacyWriteWithTrigger() => WriteAllAsync();

    private async Task SetupAsync(bool withTrigger)
    {
        _bench = await PostgresBench.StartAsync();
        await ExecuteAsync(
            $"CREATE TABLE {Table} (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
                + $"INSERT INTO {Table} SELECT i, 'Customer ' || i, 1 FROM generate_series(1, {WritesPerInvocation}) i"
        );
        await PostgreSqlOutboxSchema.CreateAsync(_bench.DataSource);
        if (withTrigger)
        {
            await PostgreSqlForwardSyncTrigger.CreateAsync(
                _bench.DataSource,
                new() { LegacyTable = Table, Migration = "LegacyCustomer->Customer" }
            );
        }
    }

    private Task WriteAllAsync()
    {
        int version = ++_iteration;
        return ConcurrentWork.RunAsync(WritesPerInvocation, Concurrency, i => WriteAsync(i + 1, version));
    }

    private async Task WriteAsync(int id, int version)
    {
        await using NpgsqlCommand update = _bench.DataSource.CreateCommand(Update);
        update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
        await update.ExecuteNonQueryAsync();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using NpgsqlCommand command = _bench.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
