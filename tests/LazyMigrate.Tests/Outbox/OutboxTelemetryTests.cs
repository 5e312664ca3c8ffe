using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// What a team sees of the outbox: counters of applied, retried and dead-lettered items and gauges of what is pending,
/// by kind; one span per dispatched batch; logs that name ids and kinds, never payloads.
/// </summary>
public sealed class OutboxTelemetryTests : IDisposable
{
    private const string TestsName = "LazyMigrate.Tests.Outbox";
    private const string KindTag = "lazymigrate.outbox.kind";
    private static readonly ActivitySource Tests = new(TestsName);

    private readonly SharedStores _shared = new();
    private readonly InMemoryOutbox _outbox = new();
    private readonly PoisonReverseMapper _mapper;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public OutboxTelemetryTests()
    {
        _mapper = new PoisonReverseMapper(_shared.Time);

        // Other test classes run at the same time: spans are picked by this test's own parent.
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is LazyMigrateTelemetry.ActivitySourceName or TestsName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    private MigrationHarness Create(Action<OutboxOptions>? options = null) =>
        AsyncWriteBack.Create(
            _shared,
            _outbox,
            options,
            b =>
            {
                b.Services.AddMetrics();
                b.Services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
                b.UseReverseMapper(_mapper);
            }
        );

    private static MetricCollector<T> Collect<T>(MigrationHarness harness, string instrument)
        where T : struct =>
        new(harness.Services.GetRequiredService<IMeterFactory>(), LazyMigrateTelemetry.MeterName, instrument);

    private static Dictionary<string, T> ByKind<T>(MetricCollector<T> collector)
        where T : struct =>
        collector
            .GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[KindTag]!)
            .ToDictionary(g => g.Key, g => g.Aggregate(default(T), (_, m) => m.Value));

    private static Dictionary<string, long> SumByKind(MetricCollector<long> collector) =>
        collector
            .GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[KindTag]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));

    [Fact]
    public async Task AppliedRetriedAndDeadLettered_AreCountedByKind()
    {
        await using var harness = Create(o =>
            {
                o.MaxAttempts = 2;
                o.RetryDelay = TimeSpan.FromSeconds(1);
            })
            .SeedLegacy(1);
        using var applied = Collect<long>(harness, LazyMigrateTelemetry.OutboxAppliedInstrument);
        using var retried = Collect<long>(harness, LazyMigrateTelemetry.OutboxRetriedInstrument);
        using var deadLettered = Collect<long>(harness, LazyMigrateTelemetry.OutboxDeadLetteredInstrument);
        _mapper.Poison(2);

        await harness.Repository.GetAsync(MigrationHarness.Id(0)); // an event
        await harness.Repository.SaveAsync(MigrationHarness.Id(1), Revision(1, 1));
        await harness.Repository.SaveAsync(MigrationHarness.Id(2), Revision(2, 1));
        await harness.DrainAsync();
        _shared.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.DrainAsync();

        Assert.Equal(new() { ["write_back"] = 1, ["entity_migrated"] = 1 }, SumByKind(applied));
        Assert.Equal(new() { ["write_back"] = 1 }, SumByKind(retried));
        Assert.Equal(new() { ["write_back"] = 1 }, SumByKind(deadLettered));
        Assert.All(
            applied.GetMeasurementSnapshot(),
            m => Assert.Equal(MigrationHarness.MigrationName, m.Tags["lazymigrate.migration"])
        );
    }

    [Fact]
    public async Task PendingAndOldestAge_AreGaugedByKind_AsOfTheDispatchersLastLook()
    {
        await using var harness = Create().SeedLegacy(1);
        using var pending = Collect<long>(harness, LazyMigrateTelemetry.OutboxPendingInstrument);
        using var oldestAge = Collect<double>(harness, LazyMigrateTelemetry.OutboxOldestAgeInstrument);
        await harness.Repository.SaveAsync(MigrationHarness.Id(1), Revision(1, 1));
        _shared.Time.Advance(TimeSpan.FromSeconds(60));
        await harness.Repository.SaveAsync(MigrationHarness.Id(2), Revision(2, 1));
        await harness.Repository.GetAsync(MigrationHarness.Id(0));
        _shared.Time.Advance(TimeSpan.FromSeconds(30));

        await harness.Dispatcher.GetStatisticsAsync();
        pending.RecordObservableInstruments();
        oldestAge.RecordObservableInstruments();

        Assert.Equal(2, ByKind(pending)["write_back"]);
        Assert.Equal(1, ByKind(pending)["entity_migrated"]);
        Assert.Equal(90, ByKind(oldestAge)["write_back"]);
        Assert.Equal(30, ByKind(oldestAge)["entity_migrated"]);

        await harness.DrainAsync();
        await harness.Dispatcher.GetStatisticsAsync();
        pending.RecordObservableInstruments();
        oldestAge.RecordObservableInstruments();
        Assert.Equal(0, ByKind(pending)["write_back"]);
        Assert.Equal(0, ByKind(oldestAge)["write_back"]);
    }

    [Fact]
    public async Task EachDispatchedBatch_IsOneSpan_NamingTheMigrationAndItsItems()
    {
        await using var harness = Create(o => o.BatchSize = 2);
        for (int n = 0; n < 3; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), Revision(n, 1));
        }

        using (Activity parent = Tests.StartActivity("drain")!)
        {
            await harness.DrainAsync();
        }

        Activity drain = Assert.Single(_stopped, a => a.Source.Name == TestsName && a.OperationName == "drain");
        Activity[] batches = [.. _stopped.Where(a => a.ParentSpanId == drain.SpanId)];
        Assert.All(batches, b => Assert.Equal("LazyMigrate dispatch", b.OperationName));
        Assert.All(batches, b => Assert.Equal(MigrationHarness.MigrationName, b.GetTagItem("lazymigrate.migration")));
        Assert.Equal([2, 1], batches.Select(b => (int)b.GetTagItem("lazymigrate.outbox.items")!));
    }

    [Fact]
    public async Task Logs_NameTheRetriesDeadLettersAndReplays_WithIdsAndKinds_NeverThePayloads()
    {
        await using var harness = Create(o =>
        {
            o.MaxAttempts = 2;
            o.RetryDelay = TimeSpan.FromSeconds(1);
        });
        _mapper.Poison(0);
        await harness.Repository.SaveAsync(MigrationHarness.Id(0), Revision(0, 1));
        await harness.DrainAsync();
        _shared.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.DrainAsync();
        await harness.Dispatcher.ReplayDeadLettersAsync();

        var records = harness.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        FakeLogRecord retried = Assert.Single(records, r => r.Id.Name == "OutboxItemRetried");
        Assert.Equal(LogLevel.Warning, retried.Level);
        Assert.Contains(MigrationHarness.Id(0), retried.Message, StringComparison.Ordinal);
        Assert.Contains("WriteBack", retried.Message, StringComparison.Ordinal);
        FakeLogRecord dead = Assert.Single(records, r => r.Id.Name == "OutboxItemDeadLettered");
        Assert.Equal(LogLevel.Error, dead.Level);
        Assert.Contains(PoisonReverseMapper.Message, dead.Exception!.ToString(), StringComparison.Ordinal);
        Assert.Contains(records, r => r.Id.Name == "OutboxDeadLettersReplayed" && r.Message.Contains(" 1 "));
        Assert.All(records, r => Assert.DoesNotContain("@example.com", r.Message, StringComparison.Ordinal));
    }
}
