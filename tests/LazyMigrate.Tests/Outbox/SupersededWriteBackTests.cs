using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Polly;
using Polly.Retry;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// An old store that refuses a write-back because a later old-API write supersedes it
/// (<see cref="WriteBackSupersededException"/>, as the PostgreSQL stores do with the forward sync trigger): the
/// write-back completes as skipped <c>superseded</c>, not as applied and not as a failure, in a batch as alone, never
/// sent again by a retry of the old store's pipeline, and a <see cref="WriteBackMode.Sync"/> save returns as saved.
/// </summary>
public sealed class SupersededWriteBackTests
{
    private readonly SharedStores _shared = new();
    private readonly InMemoryOutbox _outbox = new();

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task AWriteBackTheOldStoreRefusesAsSuperseded_CompletesAsSkipped_AndTheOthersAreApplied(int saves)
    {
        string refused = MigrationHarness.Id(saves - 1);
        var store = new BatchWritingOldStore<OldCustomer>(_shared.Old, refused, asSuperseded: true);
        await using var harness = Create(store, WriteBackMode.Async);
        using var applied = harness.Collect(LazyMigrateTelemetry.OutboxAppliedInstrument);
        using var skipped = harness.Collect(LazyMigrateTelemetry.OutboxSkippedInstrument);
        using var retried = harness.Collect(LazyMigrateTelemetry.OutboxRetriedInstrument);
        for (int n = 0; n < saves; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), MigrationHarness.Mapped(n));
        }

        await harness.DrainAsync();

        Assert.Equal(
            [.. Enumerable.Range(0, saves - 1).Select(MigrationHarness.Id)],
            _shared.Old.Snapshot().Keys.Order()
        );
        Assert.Empty(_outbox.Snapshot());
        Assert.Equal(saves - 1, applied.GetMeasurementSnapshot().Sum(m => m.Value));
        CollectedMeasurement<long> superseded = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal(
            ("write_back", "superseded", 1L),
            (superseded.OutboxTag("kind"), superseded.OutboxTag("reason"), superseded.Value)
        );
        Assert.Empty(retried.GetMeasurementSnapshot());
        // A refused batch is no failure of the store: written again entity by entity, with no warning.
        Assert.DoesNotContain(Logs(harness), r => r.Level >= LogLevel.Warning);
        Assert.Equal(saves > 1 ? 1 : 0, store.Calls.Count(c => c.StartsWith("upsert_many", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ASyncSave_WhoseWriteBackTheOldStoreRefusesAsSuperseded_ReturnsAsSaved_AndLeavesTheOldRecord()
    {
        string id = MigrationHarness.Id(0);
        var store = new BatchWritingOldStore<OldCustomer>(_shared.Old, id, asSuperseded: true);
        await using var harness = Create(store, WriteBackMode.Sync);
        using var skipped = harness.Collect(LazyMigrateTelemetry.OutboxSkippedInstrument);
        _shared.Old.Seed(id, MigrationHarness.Legacy(0));
        var saved = MigrationHarness.Mapped(7) with { Email = "new@example.com" };

        await harness.Repository.SaveAsync(id, saved);

        Assert.Equal(saved, await harness.Repository.GetAsync(id));
        Assert.Equal(MigrationHarness.Legacy(0), _shared.Old.Peek(id));
        Assert.Empty(_outbox.Snapshot());
        FakeLogRecord record = Assert.Single(Logs(harness), r => r.Id.Name == "OutboxItemSkipped");
        Assert.Equal(LogLevel.Debug, record.Level);
        Assert.Contains($"WriteBack of entity {id} completed without a write (superseded)", record.Message);
        CollectedMeasurement<long> superseded = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal(
            ("write_back", "superseded", 1L),
            (superseded.OutboxTag("kind"), superseded.OutboxTag("reason"), superseded.Value)
        );
    }

    [Fact]
    public async Task AnOldStorePipelineThatRetriesEveryException_NeverSendsARefusedWriteBackAgain()
    {
        string refused = MigrationHarness.Id(1);
        var store = new BatchWritingOldStore<OldCustomer>(_shared.Old, refused, asSuperseded: true);
        await using var harness = Create(
            store,
            WriteBackMode.Async,
            b =>
                b.UseResilience(
                    MigrationRole.OldStore,
                    p => p.AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.Zero })
                )
        );
        using var skipped = harness.Collect(LazyMigrateTelemetry.OutboxSkippedInstrument);
        for (int n = 0; n < 3; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), MigrationHarness.Mapped(n));
        }

        await harness.DrainAsync();

        // Polly's retry handles every exception but a cancellation: the refusal must not reach it as one.
        Assert.Equal(1, store.Calls.Count(c => c == "upsert_many 3"));
        Assert.Equal(1, store.Calls.Count(c => c == $"upsert {refused}"));
        Assert.Equal(1L, Assert.Single(skipped.GetMeasurementSnapshot()).Value);
        Assert.Empty(_outbox.Snapshot());
    }

    private MigrationHarness Create(
        IOldStore<OldCustomer> oldStore,
        WriteBackMode mode,
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null
    ) =>
        MigrationHarness.Create(
            _shared,
            o => o.WriteBackMode = mode,
            b =>
            {
                configure?.Invoke(b);
                b.UseOldStore(oldStore).UseOutbox(_outbox).ConfigureOutbox(o => o.DispatchOnWrite = false);
                b.Services.AddMetrics();
                b.Services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
            }
        );

    private static IReadOnlyList<FakeLogRecord> Logs(MigrationHarness harness) =>
        harness.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
}
