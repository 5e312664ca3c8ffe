using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Backfill;

public sealed class BackfillDryRunTests
{
    [Fact]
    public async Task DryRunAsync_MapsEveryEntity_CountsEveryFailure_KeepsTheFirstInFull_AndWritesNothing()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var corrupt = new CorruptRecordOldStore<OldCustomer>(shared.Old, MigrationHarness.Id(60));
        await using MigrationHarness harness = MigrationHarness
            .Create(
                shared,
                configure: b =>
                    b.UseOldStore(corrupt)
                        .UseInMemoryOutbox(outbox)
                        .ConfigureBackfill(o =>
                        {
                            o.InitialBatchSize = 25;
                            o.MinBatchSize = 10;
                            o.DryRunFailuresKept = 3;
                        })
            )
            .SeedLegacy(100);
        harness.Mapper.FailWhen = c => c.FullName.EndsWith('3');
        var reports = new List<BackfillProgress>();

        BackfillDryRunReport report = await harness.Backfill.DryRunAsync(
            new SynchronousProgress<BackfillProgress>(reports.Add)
        );

        // Ids ending in 3 (ten of them) fail to map, and 60 is corrupt.
        Assert.Equal(100, report.Scanned);
        Assert.Equal(11, report.Failed);
        Assert.Equal(89, report.Mapped);
        Assert.Equal(
            [MigrationHarness.Id(3), MigrationHarness.Id(13), MigrationHarness.Id(23)],
            report.Failures.Select(f => f.EntityId)
        );
        Assert.Contains("the full name has no space", report.Failures[0].Error, StringComparison.Ordinal);
        Assert.Equal(100, reports[^1].Counts.Scanned);
        Assert.Equal(11, reports[^1].Counts.Quarantined);

        // Nothing anywhere: no entity, no outbox item, no event, no checkpoint, no quarantine.
        Assert.Empty(shared.New.Snapshot());
        Assert.Empty(outbox.Snapshot());
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
        Assert.Null(await harness.Backfill.GetCheckpointAsync());
        Assert.Empty(await harness.Backfill.GetQuarantinedAsync());
    }

    [Fact]
    public async Task DryRunAsync_AfterABackfillStarted_LeavesItsCheckpointAlone()
    {
        var shared = new SharedStores();
        await using MigrationHarness harness = MigrationHarness
            .Create(shared, configure: b => b.ConfigureBackfill(o => o.InitialBatchSize = 50))
            .SeedLegacy(80);
        await harness.Backfill.RunAsync();
        BackfillCheckpoint? before = await harness.Backfill.GetCheckpointAsync();

        BackfillDryRunReport report = await harness.Backfill.DryRunAsync();

        Assert.Equal(80, report.Scanned);
        Assert.Equal(before, await harness.Backfill.GetCheckpointAsync());
    }
}
