using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The dispatcher's forward-sync rate: one dispatcher bringing <see cref="SyncsPerInvocation"/> migrated entities up to
/// the old-API writes made to them in the old table, beside a hand-written drain (<see
/// cref="HandWrittenOutboxDrain.ForwardSyncs"/>). Before each iteration (untimed) every entity is written in the old
/// table and its change recorded (<see cref="IOldStoreChangeRecorder{TOld, TNew}"/>), or captured by the trigger; the
/// reported time is per forward sync (its inverse is forward syncs per second).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[SteadyStateJob(RunStrategy.Monitoring, launchCount: 3, warmupCount: 3, iterationCount: 15, invocationCount: 1)]
public class PostgresForwardSyncDrainBenchmarks
{
    private const int SyncsPerInvocation = 2000;

    private const string Migration = "OldProfile->NewProfile";

    private PostgresBench _bench = null!;
    private ServiceProvider _services = null!;
    private IOldStoreChangeRecorder<OldProfile, NewProfile> _recorder = null!;
    private string[] _ids = [];
    private Func<Task<int>> _drain = null!;
    private int _iteration;

    [GlobalSetup(Target = nameof(HandWrittenForwardSync))]
    public Task SetupHandWrittenAsync() => SetupAsync(handWritten: true);

    [GlobalSetup(Target = nameof(DispatcherForwardSync))]
    public Task SetupDispatcherAsync() => SetupAsync(handWritten: false);

    [GlobalSetup(Target = nameof(DispatcherForwardSyncOfCapturedWrites))]
    public async Task SetupDispatcherWithTriggerAsync()
    {
        await SetupAsync(handWritten: false);
        await PostgreSqlForwardSyncTrigger.CreateAsync(
            _bench.DataSource,
            new()
            {
                LegacyTable = PostgresBench.OldTable,
                Migration = Migration,
                OutboxTable = OutboxRepositories.OutboxTable,
            }
        );
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        await _bench.DisposeAsync();
    }

    /// <summary>The old API writes every entity with an age it did not have; each change is recorded.</summary>
    [IterationSetup(Targets = [nameof(HandWrittenForwardSync), nameof(DispatcherForwardSync)])]
    public void WriteThroughTheOldApi()
    {
        WriteEveryEntity();
        _recorder.RecordChangesAsync(_ids).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The old API writes every entity; the capture trigger captures each write.</summary>
    [IterationSetup(Target = nameof(DispatcherForwardSyncOfCapturedWrites))]
    public void WriteThroughTheOldApiUnderTheTrigger() => WriteEveryEntity();

    private void WriteEveryEntity()
    {
        using (
            NpgsqlCommand update = _bench.DataSource.CreateCommand(
                $"UPDATE {PostgresBench.OldTable} SET payload = jsonb_set(payload, '{{age}}', to_jsonb($1)) "
                    + "WHERE id = ANY($2)"
            )
        )
        {
            update.Parameters.Add(new NpgsqlParameter { Value = ++_iteration });
            update.Parameters.Add(new NpgsqlParameter { Value = _ids });
            update.ExecuteNonQuery();
        }
    }

    /// <summary>Every entity reached the new table with this iteration's age.</summary>
    [IterationCleanup]
    public void CheckEverySyncApplied()
    {
        _bench.CheckAges(PostgresBench.NewTable, _iteration, SyncsPerInvocation, "forward syncs");
    }

    /// <summary>The hand-written drain.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = SyncsPerInvocation)]
    public Task HandWrittenForwardSync() => _drain();

    /// <summary>The core's dispatcher, one instance, with the default <see cref="OutboxOptions"/>.</summary>
    [Benchmark(OperationsPerInvoke = SyncsPerInvocation)]
    public Task DispatcherForwardSync() => _drain();

    /// <summary>
    /// The same dispatcher, the changes captured by <see cref="PostgreSqlForwardSyncTrigger"/> instead of recorded:
    /// its claims fold the captures into items first.
    /// </summary>
    [Benchmark(OperationsPerInvoke = SyncsPerInvocation)]
    public Task DispatcherForwardSyncOfCapturedWrites() => _drain();

    private async Task SetupAsync(bool handWritten)
    {
        _bench = await PostgresBench.StartAsync();
        (_services, var repository) = await PostgresRepositories.BuildAsync(
            _bench,
            LockChoice.AdvisoryLock,
            builder =>
                builder
                    .Configure(o => (o.WriteBackMode, o.ForwardSync) = (WriteBackMode.Async, true))
                    .UseReverseMapper(NewProfile.ToOld)
                    .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (OutboxRepositories.OutboxTable, true))
                    .ConfigureOutbox(o => o.DispatchOnWrite = false)
        );
        var dispatcher = _services.GetRequiredService<IMigrationDispatcher<OldProfile, NewProfile>>();
        _recorder = _services.GetRequiredService<IOldStoreChangeRecorder<OldProfile, NewProfile>>();
        _ids = await _bench.SeedLegacyAsync(SyncsPerInvocation);
        foreach (string[] batch in _ids.Chunk(500))
        {
            await repository.GetManyAsync(batch);
        }

        await dispatcher.DrainAsync();
        _drain = handWritten
            ? HandWrittenOutboxDrain.ForwardSyncs(_bench.DataSource).DrainAsync
            : async () => await dispatcher.DrainAsync();
    }
}
