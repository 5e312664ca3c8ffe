using System.Threading.RateLimiting;
using LazyMigrate.Backfill;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Tests.Backfill;

/// <summary>
/// The backfill's pace on a fake clock: every wait is announced by a log event once its timer is set, the gate the
/// tests wait on before they move the clock.
/// </summary>
public sealed class BackfillPacingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly SharedStores _shared = new();
    private readonly LogSignal _log = new();

    private MigrationHarness Create(
        Action<BackfillOptions> backfill,
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null
    ) =>
        MigrationHarness.Create(
            _shared,
            configure: b =>
            {
                b.Services.AddLogging(l => l.AddProvider(_log).SetMinimumLevel(LogLevel.Debug));
                b.ConfigureBackfill(o =>
                {
                    o.InitialBatchSize = 100;
                    o.MinBatchSize = 10;
                    o.TargetBatchDuration = TimeSpan.Zero;
                    backfill(o);
                });
                configure?.Invoke(b);
            }
        );

    [Fact]
    public async Task RunAsync_WhileTheThrottleSaysWait_HoldsItsNextBatch()
    {
        var throttle = new ScriptedThrottle(TimeSpan.Zero, TimeSpan.FromMinutes(5), TimeSpan.Zero);
        await using MigrationHarness harness = Create(_ => { }, b => b.UseBackfillThrottle(throttle)).SeedLegacy(250);

        Task<BackfillSummary> run = harness.Backfill.RunAsync().AsTask();
        await _log.Logged("BackfillThrottled");
        int heldAt = _shared.New.Count;
        _shared.Time.Advance(TimeSpan.FromMinutes(5));
        BackfillSummary summary = await run.WaitAsync(Bound);

        Assert.Equal(100, heldAt);
        Assert.Equal(250, summary.Counts.Migrated);
        Assert.Equal(
            new BackfillThrottleContext(MigrationHarness.MigrationName, 100, TimeSpan.Zero),
            throttle.Asked[0]
        );
        Assert.Equal(4, throttle.Asked.Count);
    }

    [Fact]
    public async Task RunAsync_WithMaxEntitiesPerSecond_StartsABatchOnlyWhenTheRateAllowsIt()
    {
        await using MigrationHarness harness = Create(o => o.MaxEntitiesPerSecond = 50).SeedLegacy(250);

        Task<BackfillSummary> run = harness.Backfill.RunAsync().AsTask();
        var held = new List<int>();
        for (int wait = 1; wait <= 2; wait++)
        {
            await _log.Logged("BackfillRateLimited", wait);
            held.Add(_shared.New.Count);
            _shared.Time.Advance(TimeSpan.FromSeconds(2));
        }

        BackfillSummary summary = await run.WaitAsync(Bound);

        // 100 entities at 50 a second: each batch waits 2 s for the one before it.
        Assert.Equal([100, 200], held);
        Assert.Equal(250, summary.Counts.Migrated);
        Assert.Equal(2, _log.Count("BackfillRateLimited"));
    }

    [Fact]
    public async Task RunAsync_WithASharedRateLimiter_TakesAPermitPerEntityBeforeEachBatch()
    {
        using var limiter = new TokenBucketRateLimiter(
            new TokenBucketRateLimiterOptions
            {
                TokenLimit = 100,
                TokensPerPeriod = 100,
                // Replenished only when the test says so; a period of one tick, so that TryReplenish is never early.
                ReplenishmentPeriod = TimeSpan.FromTicks(1),
                AutoReplenishment = false,
                QueueLimit = 100,
            }
        );
        await using MigrationHarness harness = Create(o => o.RateLimiter = limiter).SeedLegacy(150);

        Task<BackfillSummary> run = harness.Backfill.RunAsync().AsTask();
        await Eventually.TrueAsync(() => limiter.GetStatistics()?.CurrentQueuedCount == 50, what: "the last batch");
        int heldAt = _shared.New.Count;
        limiter.TryReplenish();
        BackfillSummary summary = await run.WaitAsync(Bound);

        Assert.Equal(100, heldAt);
        Assert.Equal(150, summary.Counts.Migrated);
    }

    [Fact]
    public async Task Pause_HoldsTheBackfillAfterTheBatchInFlight_UntilResume()
    {
        await using MigrationHarness harness = Create(_ => { }).SeedLegacy(250);
        IBackfillRunner<OldCustomer, NewCustomer> backfill = harness.Backfill;
        var progress = new SynchronousProgress<BackfillProgress>(p =>
        {
            if (p.Counts.Scanned == 100)
            {
                backfill.Pause();
            }
        });

        Task<BackfillSummary> run = backfill.RunAsync(progress).AsTask();
        await _log.Logged("BackfillHeld");
        int heldAt = _shared.New.Count;
        bool paused = backfill.IsPaused;
        backfill.Resume();
        BackfillSummary summary = await run.WaitAsync(Bound);

        // Paused once batch 1 was checkpointed, with batch 2 in flight (MaxBatchesInFlight 2): it holds before batch 3.
        Assert.Equal(200, heldAt);
        Assert.True(paused);
        Assert.False(backfill.IsPaused);
        Assert.Equal(250, summary.Counts.Migrated);
    }

    [Fact]
    public async Task RunAsync_SizesBatchesTowardTheTargetDuration_WithinTheBounds()
    {
        // Each entity costs 1 ms of the fake clock to insert, 4 ms from entity 2400 on: the database slowed down.
        var charging = new HookedNewStore<NewCustomer>(_shared.New)
        {
            BeforeInsertMany = ids =>
            {
                foreach (string id in ids)
                {
                    _shared.Time.Advance(
                        TimeSpan.FromMilliseconds(string.CompareOrdinal(id, "customer-02400") < 0 ? 1 : 4)
                    );
                }
            },
        };
        await using MigrationHarness harness = Create(
                o =>
                {
                    o.InitialBatchSize = 100;
                    o.MaxBatchSize = 500;
                    o.TargetBatchDuration = TimeSpan.FromMilliseconds(500);
                    o.MaxBatchesInFlight = 1;
                },
                b => b.UseNewStore(charging)
            )
            .SeedLegacy(4025);
        var sizes = new List<int>();

        await harness.Backfill.RunAsync(new SynchronousProgress<BackfillProgress>(p => sizes.Add(p.BatchSize)));

        // Up by at most double a step to the bound, then down by at most half a step when the rows cost more; each
        // size follows from the batch before the one before, since the runner reads a batch ahead.
        Assert.Equal([100, 100, 200, 200, 400, 400, 500, 500, 500, 500, 250, 250, 125, 0], sizes);
        Assert.Equal(4025, _shared.New.Count);
    }

    /// <summary>A throttle that answers from a script (its last answer repeats) and records each question.</summary>
    private sealed class ScriptedThrottle(params TimeSpan[] answers) : IBackfillThrottle
    {
        public List<BackfillThrottleContext> Asked { get; } = [];

        public ValueTask<TimeSpan> GetDelayAsync(BackfillThrottleContext context, CancellationToken cancellationToken)
        {
            Asked.Add(context);
            return new(answers[Math.Min(Asked.Count - 1, answers.Length - 1)]);
        }
    }
}
