using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Backfill;

public sealed class BackfillRunTests
{
    private static MigrationHarness Create(SharedStores? shared = null, Action<BackfillOptions>? backfill = null) =>
        MigrationHarness.Create(
            shared,
            configure: b =>
                b.ConfigureBackfill(o =>
                {
                    o.InitialBatchSize = 100;
                    o.MinBatchSize = 10;
                    o.TargetBatchDuration = TimeSpan.Zero;
                    backfill?.Invoke(o);
                })
        );

    [Fact]
    public async Task RunAsync_MigratesEveryOldEntityOnce_WithOneBackfillEventEach()
    {
        await using MigrationHarness harness = Create().SeedLegacy(250);

        BackfillSummary summary = await harness.Backfill.RunAsync();
        await harness.DrainAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(new BackfillCounts { Scanned = 250, Migrated = 250 }, summary.Counts);
        Assert.Equal(3, summary.Batches);
        Assert.Equal(250, harness.New.Count);
        Assert.Equal(250, harness.Mapper.MapCount);
        Assert.Equal(MigrationHarness.Mapped(7), harness.New.Peek(MigrationHarness.Id(7)).Value);
        Assert.Equal(250, harness.Events.Select(e => e.EntityId).Distinct().Count());
        Assert.All(harness.Events, e => Assert.Equal(MigrationTrigger.Backfill, e.Trigger));
    }

    [Fact]
    public async Task RunAsync_NeverOverwritesASaveNorResurrectsADelete()
    {
        await using MigrationHarness harness = Create().SeedLegacy(50);
        var saved = new NewCustomer("Saved", "Later", "saved@example.com");
        await harness.Repository.SaveAsync(MigrationHarness.Id(3), saved);
        await harness.Repository.DeleteAsync(MigrationHarness.Id(4));
        await harness.Repository.GetAsync(MigrationHarness.Id(5));

        BackfillSummary summary = await harness.Backfill.RunAsync();

        Assert.Equal(
            new BackfillCounts
            {
                Scanned = 50,
                Migrated = 47,
                AlreadyPresent = 3,
            },
            summary.Counts
        );
        Assert.Equal(saved, harness.New.Peek(MigrationHarness.Id(3)).Value);
        Assert.Equal(NewStoreState.Deleted, harness.New.Peek(MigrationHarness.Id(4)).State);
    }

    [Fact]
    public async Task RunAsync_StoppedAfterABatch_ResumesFromItsCheckpoint_MappingNothingTwice()
    {
        var shared = new SharedStores();
        await using MigrationHarness first = Create(shared).SeedLegacy(350);
        using var stop = new CancellationTokenSource();

        // Cancelled once the second batch's checkpoint is saved (progress is told after the save); the third batch
        // is in flight by then, and the stop keeps it.
        var progress = new SynchronousProgress<BackfillProgress>(p =>
        {
            if (p.Counts.Scanned == 200)
            {
                stop.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            first.Backfill.RunAsync(progress, stop.Token).AsTask()
        );
        BackfillCheckpoint? stopped = await first.Backfill.GetCheckpointAsync();
        await using MigrationHarness second = Create(shared);
        BackfillSummary resumed = await second.Backfill.RunAsync();

        Assert.Equal(MigrationHarness.Id(299), stopped?.Cursor);
        Assert.False(stopped?.IsComplete);
        Assert.Equal(new BackfillCounts { Scanned = 50, Migrated = 50 }, resumed.Counts);
        Assert.Equal(new BackfillCounts { Scanned = 350, Migrated = 350 }, resumed.Total);
        Assert.Equal(350, first.Mapper.MapCount + second.Mapper.MapCount);
        Assert.Equal(350, shared.New.Count);
    }

    [Fact]
    public async Task RunAsync_AStoreFailure_KeepsTheLastCommittedCheckpoint_AndARerunFinishes()
    {
        var shared = new SharedStores();
        int inserts = 0;
        bool down = true;
        var failing = new HookedNewStore<NewCustomer>(shared.New)
        {
            BeforeInsert = () =>
            {
                if (++inserts >= 2 && down)
                {
                    throw new TimeoutException("The new database did not answer.");
                }
            },
        };
        await using MigrationHarness harness = MigrationHarness
            .Create(
                shared,
                o => o.MaxRetryAttempts = 0,
                b =>
                    b.UseNewStore(failing)
                        .ConfigureBackfill(o =>
                        {
                            o.InitialBatchSize = 100;
                            o.TargetBatchDuration = TimeSpan.Zero;
                        })
            )
            .SeedLegacy(250);

        await Assert.ThrowsAsync<MigrationStoreException>(() => harness.Backfill.RunAsync().AsTask());
        BackfillCheckpoint? afterFailure = await harness.Backfill.GetCheckpointAsync();
        down = false;
        BackfillSummary rerun = await harness.Backfill.RunAsync();

        Assert.Equal(MigrationHarness.Id(99), afterFailure?.Cursor);
        Assert.Equal(100, afterFailure?.Counts.Migrated);
        Assert.True(rerun.IsComplete);
        Assert.Equal(150, rerun.Counts.Migrated);
        Assert.Equal(250, shared.New.Count);
    }

    [Fact]
    public async Task RunAsync_AfterItCompleted_MovesNothing()
    {
        await using MigrationHarness harness = Create().SeedLegacy(30);
        await harness.Backfill.RunAsync();
        harness.Old.Seed(MigrationHarness.Id(40), MigrationHarness.Legacy(40));

        BackfillSummary again = await harness.Backfill.RunAsync();

        Assert.True(again.IsComplete);
        Assert.Equal(default, again.Counts);
        Assert.Equal(30, again.Total.Migrated);
    }

    [Fact]
    public async Task RunAsync_ReportsProgressAfterEachBatch_WithTheTimeLeft()
    {
        await using MigrationHarness harness = Create().SeedLegacy(250);
        var reports = new List<BackfillProgress>();

        await harness.Backfill.RunAsync(new SynchronousProgress<BackfillProgress>(reports.Add));

        Assert.Equal([100L, 200L, 250L], reports.Select(r => r.Counts.Scanned));
        Assert.All(reports, r => Assert.Equal(250, r.Remaining));
        Assert.Equal([100, 100, 50], reports.Select(r => r.BatchSize));
    }

    [Fact]
    public async Task RunAsync_AnOldStoreFailingToCount_RunsWithoutATotal_AndMigratesEverything()
    {
        (MigrationHarness created, FailingCountOldStore failingCount) = WithAFailingCount(o =>
        {
            o.InitialBatchSize = 100;
            o.MinBatchSize = 10;
            o.TargetBatchDuration = TimeSpan.Zero;
        });
        await using MigrationHarness harness = created;
        var reports = new List<BackfillProgress>();

        BackfillSummary summary = await harness.Backfill.RunAsync(
            new SynchronousProgress<BackfillProgress>(reports.Add)
        );

        Assert.True(failingCount.Asked, "the runner never asked the old store to count");
        Assert.True(summary.IsComplete);
        Assert.Equal(150, summary.Counts.Migrated);
        Assert.All(reports, r => Assert.Null(r.Remaining));
    }

    [Fact]
    public async Task RunAsync_WithoutAProgressObserver_NeverCounts_AndMigratesEverything()
    {
        (MigrationHarness created, FailingCountOldStore failingCount) = WithAFailingCount();
        await using MigrationHarness harness = created;

        BackfillSummary summary = await harness.Backfill.RunAsync();

        Assert.False(failingCount.Asked, "the runner counted the old store with no one to tell");
        Assert.True(summary.IsComplete);
        Assert.Equal(150, summary.Counts.Migrated);
    }

    [Fact]
    public async Task DryRunAsync_WithoutAProgressObserver_NeverCounts_AndWithOne_GoesOnWhenTheCountFails()
    {
        (MigrationHarness created, FailingCountOldStore failingCount) = WithAFailingCount();
        await using MigrationHarness harness = created;

        BackfillDryRunReport unobserved = await harness.Backfill.DryRunAsync();
        Assert.False(failingCount.Asked, "the dry run counted the old store with no one to tell");

        var reports = new List<BackfillProgress>();
        BackfillDryRunReport observed = await harness.Backfill.DryRunAsync(
            new SynchronousProgress<BackfillProgress>(reports.Add)
        );

        Assert.True(failingCount.Asked);
        Assert.All(reports, r => Assert.Null(r.Remaining));
        Assert.NotEmpty(reports);
        Assert.Equal(150, unobserved.Scanned);
        Assert.Equal(150, observed.Scanned);
    }

    /// <summary>A harness of 150 legacy customers over an old store whose count fails.</summary>
    private static (MigrationHarness Harness, FailingCountOldStore Old) WithAFailingCount(
        Action<BackfillOptions>? backfill = null
    )
    {
        var shared = new SharedStores();
        var failingCount = new FailingCountOldStore(shared.Old);
        MigrationHarness harness = MigrationHarness
            .Create(shared, configure: b => b.UseOldStore(failingCount).ConfigureBackfill(backfill ?? (_ => { })))
            .SeedLegacy(150);
        return (harness, failingCount);
    }

    /// <summary>An old store that counts by failing, as a count timing out on a huge table does.</summary>
    private sealed class FailingCountOldStore(InMemoryOldStore<OldCustomer> inner)
        : AfterReadOldStore<OldCustomer>(inner),
            IOldStoreCounter<OldCustomer>
    {
        public bool Asked { get; private set; }

        public ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default)
        {
            Asked = true;
            throw new TimeoutException("canceling statement due to statement timeout");
        }

        protected override Task AfterReadAsync(IReadOnlyCollection<string> ids, CancellationToken token) =>
            Task.CompletedTask;
    }

    [Fact]
    public async Task RunAsync_WithForwardSync_MigratesWhatTheOldStoreHoldsUnderTheLock_NotWhatItScanned()
    {
        var shared = new SharedStores();
        var changed = new OldCustomer("First150 Last150", "changed@example.com");
        int asked = 0;

        // Asked before batch 2 migrates, after it was scanned (the runner reads a batch ahead): a write through the
        // old API lands in between.
        var throttle = new DelegateBackfillThrottle(_ =>
        {
            if (++asked == 2)
            {
                shared.Old.Seed(MigrationHarness.Id(150), changed);
            }

            return Task.FromResult(TimeSpan.Zero);
        });
        await using MigrationHarness harness = MigrationHarness
            .Create(
                shared,
                o => o.ForwardSync = true,
                b =>
                    b.UseInMemoryOutbox(new InMemoryOutbox())
                        .UseBackfillThrottle(throttle)
                        .ConfigureBackfill(o =>
                        {
                            o.InitialBatchSize = 100;
                            o.TargetBatchDuration = TimeSpan.Zero;
                        })
            )
            .SeedLegacy(250);

        BackfillSummary summary = await harness.Backfill.RunAsync();

        Assert.Equal(250, summary.Counts.Migrated);
        Assert.Equal(
            new NewCustomer("First150", "Last150", "changed@example.com"),
            shared.New.Peek(MigrationHarness.Id(150)).Value
        );
    }
}
