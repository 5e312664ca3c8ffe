using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// What the forward sync capture trigger costs the legacy application: its writes to a legacy table with typed columns
/// (one <c>UPDATE</c> by key each, as plain commands, prepared only by <see cref="LegacyPool.ResetKeepingPlans"/>)
/// with <see cref="PostgreSqlForwardSyncTrigger"/> installed, beside the same writes to the same table without it,
/// the baseline, and the baseline's code again, the A/A control. Each invocation writes <see
/// cref="WritesPerInvocation"/> rows with <see cref="Concurrency"/> writers; the time is per write. The outbox and its
/// captures are emptied between iterations (untimed), as a dispatcher that keeps up leaves them. The target
/// (docs/benchmarks.md): at least 0.8. Beside them, for comparison, the least any trigger can do (the floor), and a
/// capture without a trigger by logical decoding (<see cref="SlotCaptureReader"/>, not LazyMigrate's). Every server
/// commits synchronously, so that the slot's reader gets each commit's log at once.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 5, iterationCount: 20, invocationCount: 1)]
public class PostgresCaptureTriggerBenchmarks
{
    private const int WritesPerInvocation = LegacyWriteWorkload.Rows;
    private const string Table = "legacy_customers";

    /// <summary>The outbox's captures table, which the trigger appends to.</summary>
    private const string Captures = PostgreSqlOutboxOptions.DefaultTableName + "_captures";

    private PostgresBench _bench = null!;
    private NpgsqlDataSource _legacyApplication = null!;
    private int _iteration;
    private readonly CancellationTokenSource _stopReading = new();
    private SlotCaptureReader? _reader;
    private Task? _reading;
    private long _awaitedCaptures;
    private TaskCompletionSource? _allCaptured;

    [Params(1, 8)]
    public int Concurrency { get; set; }

    /// <summary>
    /// Gets or sets whether the server commits durably (fsync and synchronous commit on, PostgreSQL's defaults and a
    /// production database's) or not (fsync off, synchronous commit on). Not a parameter, since it doubles the run:
    /// its figures (docs/benchmarks.md) came from runs with it set to <see langword="true"/> here.
    /// </summary>
    public bool Durable { get; set; }

    /// <summary>Gets or sets how the legacy application's pool treats a connection it hands out again.</summary>
    [Params(LegacyPool.Reset, LegacyPool.ResetKeepingPlans, LegacyPool.NoReset)]
    public LegacyPool Pool { get; set; }

    [GlobalSetup(Targets = [nameof(LegacyWriteWithoutTrigger), nameof(LegacyWriteWithoutTriggerControl)])]
    public Task SetupWithoutTriggerAsync() => SetupAsync(withTrigger: false);

    [GlobalSetup(Target = nameof(LegacyWriteWithTrigger))]
    public Task SetupWithTriggerAsync() => SetupAsync(withTrigger: true);

    [GlobalSetup(Target = nameof(LegacyWriteWithCompiledCapture))]
    public Task SetupWithCompiledCaptureAsync() => SetupAsync(withTrigger: true, compiled: true);

    [GlobalSetup(Target = nameof(LegacyWriteWithLeastCaptureTrigger))]
    public async Task SetupWithLeastCaptureTriggerAsync()
    {
        await SetupAsync(withTrigger: false);
        await ExecuteAsync(LegacyWriteWorkload.LeastCaptureTrigger(Table));
    }

    /// <summary>
    /// The server at <c>wal_level = logical</c>, the legacy table's key published, and a reader of the slot (<see
    /// cref="SlotCaptureReader"/>, not LazyMigrate's) running in this process, appending the captures as the trigger
    /// would.
    /// </summary>
    [GlobalSetup(Target = nameof(LegacyWriteWithSlotCapture))]
    public async Task SetupWithSlotCaptureAsync()
    {
        await SetupAsync(withTrigger: false, logicalDecoding: true);
        _reader = await SlotCaptureReader.CreateAsync(_bench, Table, "LegacyCustomer->Customer");
        _reader.Recorded = captured =>
        {
            if (captured >= Volatile.Read(ref _awaitedCaptures))
            {
                _allCaptured?.TrySetResult();
            }
        };
        _reading = _reader.RunAsync(_stopReading.Token);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_reading is not null)
        {
            await _stopReading.CancelAsync();
            try
            {
                await _reading;
            }
            catch (OperationCanceledException) { }
        }

        await _legacyApplication.DisposeAsync();
        await _bench.DisposeAsync();
    }

    /// <summary>
    /// Empties the outbox, as a dispatcher that keeps up leaves it, and vacuums it and the table, as autovacuum keeps
    /// them: otherwise each iteration's writes would meet the dead rows of all the iterations before.
    /// </summary>
    [IterationCleanup]
    public void EmptyTheOutbox()
    {
        foreach (
            string sql in (string[])
                [
                    $"DELETE FROM {PostgreSqlOutboxOptions.DefaultTableName}",
                    $"DELETE FROM {Captures}",
                    $"VACUUM {PostgreSqlOutboxOptions.DefaultTableName}, {Captures}, {Table}",
                    $"TRUNCATE {LegacyWriteWorkload.FloorCaptures}",
                ]
        )
        {
            using NpgsqlCommand command = _bench.DataSource.CreateCommand(sql);
            command.ExecuteNonQuery();
        }
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

    /// <summary>
    /// The same writes under the trigger's compiled capture (<see cref="PostgreSqlForwardSyncTriggerOptions
    /// .CompiledCapture"/>; <c>extensions/lazymigrate_capture</c> must be built).
    /// </summary>
    [Benchmark(OperationsPerInvoke = WritesPerInvocation)]
    public Task LegacyWriteWithCompiledCapture() => WriteAllAsync();

    /// <summary>
    /// The same writes on a server that decodes its log, captured without a trigger by a reader of a replication slot:
    /// an invocation ends once the reader has recorded every write's capture, so the time includes the decoding and
    /// the recording that the writes caused (and the reader's last <see cref="SlotCaptureReader.RecordInterval"/>).
    /// </summary>
    [Benchmark(OperationsPerInvoke = WritesPerInvocation)]
    public async Task LegacyWriteWithSlotCapture()
    {
        _allCaptured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long awaited = Volatile.Read(ref _awaitedCaptures) + WritesPerInvocation;
        Volatile.Write(ref _awaitedCaptures, awaited);
        if (_reader!.Captured >= awaited)
        {
            _allCaptured.TrySetResult();
        }

        await WriteAllAsync();
        // The reader's failure ends the wait with its own error, not a timeout.
        Task done = await Task.WhenAny(_allCaptured.Task, _reading!).WaitAsync(TimeSpan.FromMinutes(1));
        await done;
        if (done == _reading)
        {
            throw new InvalidOperationException("The slot's reader stopped before it recorded every write.");
        }
    }

    /// <summary>
    /// The same writes under the least capture trigger (<see cref="LegacyWriteWorkload.LeastCaptureTrigger"/>): the
    /// floor.
    /// </summary>
    [Benchmark(OperationsPerInvoke = WritesPerInvocation)]
    public Task LegacyWriteWithLeastCaptureTrigger() => WriteAllAsync();

    private async Task SetupAsync(bool withTrigger, bool logicalDecoding = false, bool compiled = false)
    {
        _bench = await PostgresBench.StartAsync(
            new PostgresServer
            {
                Durable = Durable,
                LogicalDecoding = logicalDecoding,
                // A commit writes its log before it returns, as a production server's does, so that a slot's reader
                // gets it at once (with synchronous_commit off, the log would wait up to three wal_writer_delay, 200
                // ms each, to be written); fsync stays off, so that the run measures the server's work, not the disk.
                Settings = Durable ? [] : ["synchronous_commit=on"],
            }
        );
        _legacyApplication = LegacyWriteWorkload.Pool(_bench.DataSource.ConnectionString, Pool);
        // Every setup has the floor's table, which each iteration empties.
        await ExecuteAsync($"{LegacyWriteWorkload.CreateTable(Table)}; {LegacyWriteWorkload.CreateFloorCaptures}");
        await PostgreSqlOutboxSchema.CreateAsync(_bench.DataSource);
        if (withTrigger)
        {
            await PostgreSqlForwardSyncTrigger.CreateAsync(
                _bench.DataSource,
                new()
                {
                    LegacyTable = Table,
                    Migration = "LegacyCustomer->Customer",
                    CompiledCapture = compiled,
                }
            );
        }
    }

    private Task WriteAllAsync() =>
        LegacyWriteWorkload.WriteAllAsync(_legacyApplication, Table, Concurrency, ++_iteration);

    private async Task ExecuteAsync(string sql)
    {
        await using NpgsqlCommand command = _bench.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>How a legacy application's pool treats a connection it hands out again.</summary>
public enum LegacyPool
{
    /// <summary>
    /// Npgsql's default: a <c>DISCARD ALL</c> before the next command, which drops the session's cached plans, the
    /// trigger's among them, so that the trigger's statements are planned again on every write.
    /// </summary>
    Reset,

    /// <summary>
    /// Npgsql's default with <c>Max Auto Prepare</c> on: a connection holding a prepared statement is reset without
    /// <c>DISCARD ALL</c> (which would drop it), so the trigger's plans stay cached; the legacy <c>UPDATE</c> is
    /// prepared too.
    /// </summary>
    ResetKeepingPlans,

    /// <summary><c>No Reset On Close</c>, or one long-lived session: nothing is reset.</summary>
    NoReset,
}
