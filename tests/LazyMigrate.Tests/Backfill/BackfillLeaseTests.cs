using LazyMigrate.Backfill;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Tests.Backfill;

/// <summary>
/// Two instances over one checkpoint store: one advances the backfill at a time, the other waits for it to finish or
/// takes over when its lease lapses; every entity is migrated once either way.
/// </summary>
public sealed class BackfillLeaseTests : IDisposable
{
    private const int Entities = 300;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly SharedStores _shared = new();
    private readonly LogSignal _log = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task RunAsync_WhileAnotherInstanceHoldsTheLease_WaitsForItAndFindsTheBackfillComplete()
    {
        await using MigrationHarness first = Create(holdAtThrottle: 1).SeedLegacy(Entities);
        await using MigrationHarness second = Create(holdAtThrottle: 0);

        Task<BackfillSummary> firstRun = Task.Run(() => first.Backfill.RunAsync().AsTask());
        await _held.Task.WaitAsync(Bound);
        Task<BackfillSummary> secondRun = second.Backfill.RunAsync().AsTask();
        await _log.Logged("BackfillWaitingForLease");
        _release.Set();
        BackfillSummary firstSummary = await firstRun.WaitAsync(Bound);
        _shared.Time.Advance(TimeSpan.FromSeconds(5));
        BackfillSummary secondSummary = await secondRun.WaitAsync(Bound);
        await _shared.DrainAsync();

        Assert.Equal(Entities, firstSummary.Counts.Migrated);
        Assert.True(secondSummary.IsComplete);
        Assert.Equal(default, secondSummary.Counts);
        AssertEveryEntityMigratedOnce();
    }

    [Fact]
    public async Task RunAsync_WhenTheHolderStallsPastItsLease_AnotherInstanceTakesOverFromItsCheckpoint()
    {
        await using MigrationHarness stalled = Create(holdAtThrottle: 2).SeedLegacy(Entities);
        await using MigrationHarness taker = Create(holdAtThrottle: 0);

        Task<BackfillSummary> stalledRun = Task.Run(() => stalled.Backfill.RunAsync().AsTask());
        await _held.Task.WaitAsync(Bound);
        Task<BackfillSummary> takerRun = taker.Backfill.RunAsync().AsTask();
        await _log.Logged("BackfillWaitingForLease");
        _shared.Time.Advance(TimeSpan.FromSeconds(31));
        BackfillSummary takerSummary = await takerRun.WaitAsync(Bound);

        // The stalled instance wakes up past a third of its lease: renewing it, it finds the cursor moved on, so it
        // gives its own up, and finds the backfill complete.
        _release.Set();
        BackfillSummary stalledSummary = await stalledRun.WaitAsync(Bound);
        await _shared.DrainAsync();

        Assert.Equal(Entities - 100, takerSummary.Counts.Migrated);
        Assert.Equal(100, stalledSummary.Counts.Migrated);
        Assert.True(stalledSummary.IsComplete);
        Assert.Equal(1, _log.Count("BackfillLeaseLost"));
        Assert.Equal(Entities, (await taker.Backfill.GetCheckpointAsync())?.Counts.Migrated);
        AssertEveryEntityMigratedOnce();
    }

    public void Dispose() => _release.Dispose();

    /// <summary>
    /// An instance whose <paramref name="holdAtThrottle"/>th question to its throttle (before a batch migrates, with
    /// the lease held and no lock) holds until released; 0: never.
    /// </summary>
    private MigrationHarness Create(int holdAtThrottle)
    {
        int asked = 0;
        var throttle = new DelegateBackfillThrottle(async ct =>
        {
            if (++asked == holdAtThrottle)
            {
                _held.TrySetResult();
                await Task.Run(() => _release.Wait(TimeSpan.FromSeconds(30), ct), ct);
            }

            return TimeSpan.Zero;
        });
        return MigrationHarness.Create(
            _shared,
            configure: b =>
            {
                b.Services.AddLogging(l => l.AddProvider(_log));
                b.UseBackfillThrottle(throttle)
                    .ConfigureBackfill(o =>
                    {
                        o.InitialBatchSize = 100;
                        o.TargetBatchDuration = TimeSpan.Zero;
                        o.LeaseDuration = TimeSpan.FromSeconds(30);
                        o.LeasePollInterval = TimeSpan.FromSeconds(5);

                        // One batch at a time: a stall before a batch then follows a checkpoint of every batch before.
                        o.MaxBatchesInFlight = 1;
                    });
            }
        );
    }

    private void AssertEveryEntityMigratedOnce()
    {
        Assert.Equal(Entities, _shared.New.Count);
        Assert.Equal(Entities, _shared.AllEvents.Count);
        Assert.Equal(Entities, _shared.AllEvents.Select(e => e.EventId).Distinct().Count());
    }
}
