using LazyMigrate.Backfill;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Backfill;

public sealed class BackfillQuarantineTests
{
    private static MigrationHarness Create(SharedStores shared, IOldStore<OldCustomer>? oldStore = null) =>
        MigrationHarness.Create(
            shared,
            configure: b =>
            {
                b.ConfigureBackfill(o =>
                {
                    o.InitialBatchSize = 20;
                    o.MinBatchSize = 10;
                    o.TargetBatchDuration = TimeSpan.Zero;
                });
                if (oldStore is not null)
                {
                    b.UseOldStore(oldStore);
                }
            }
        );

    [Fact]
    public async Task RunAsync_AnEntityTheMapperRejects_IsQuarantinedWithItsError_AndTheRestMigrate()
    {
        var shared = new SharedStores();
        await using MigrationHarness harness = Create(shared).SeedLegacy(50);
        string[] bad = [MigrationHarness.Id(7), MigrationHarness.Id(31)];
        harness.Mapper.FailWhen = c => c.FullName is "First7 Last7" or "First31 Last31";

        BackfillSummary summary = await harness.Backfill.RunAsync();
        IReadOnlyList<QuarantinedEntity> quarantined = await harness.Backfill.GetQuarantinedAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(
            new BackfillCounts
            {
                Scanned = 50,
                Migrated = 48,
                Quarantined = 2,
            },
            summary.Counts
        );
        Assert.Equal(bad, quarantined.Select(q => q.EntityId));
        Assert.All(
            quarantined,
            q =>
            {
                Assert.StartsWith("MigrationMappingException: ", q.Error, StringComparison.Ordinal);
                Assert.Contains(q.EntityId, q.Error, StringComparison.Ordinal);
                Assert.Contains("the full name has no space", q.Error, StringComparison.Ordinal);
            }
        );
        Assert.Equal(NewStoreState.Missing, shared.New.Peek(bad[0]).State);
    }

    [Fact]
    public async Task RetryQuarantinedAsync_AfterAFix_MigratesThemAndClearsTheQuarantine()
    {
        var shared = new SharedStores();
        await using MigrationHarness harness = Create(shared).SeedLegacy(30);
        harness.Mapper.FailWhen = c => c.FullName is "First3 Last3" or "First4 Last4" or "First5 Last5";
        await harness.Backfill.RunAsync();
        harness.Mapper.FailWhen = c => c.FullName == "First5 Last5";
        await harness.Repository.SaveAsync(MigrationHarness.Id(4), MigrationHarness.Mapped(104));

        QuarantineRetrySummary retry = await harness.Backfill.RetryQuarantinedAsync();
        IReadOnlyList<QuarantinedEntity> left = await harness.Backfill.GetQuarantinedAsync();

        Assert.Equal(new QuarantineRetrySummary(3, 1, 1, 1), retry);
        Assert.Equal(MigrationHarness.Mapped(3), shared.New.Peek(MigrationHarness.Id(3)).Value);
        Assert.Equal(MigrationHarness.Mapped(104), shared.New.Peek(MigrationHarness.Id(4)).Value);
        QuarantinedEntity still = Assert.Single(left);
        Assert.Equal(MigrationHarness.Id(5), still.EntityId);
        Assert.Equal(2, still.Attempts);
    }

    [Fact]
    public async Task RetryQuarantinedAsync_OfSomeIds_LeavesTheOthers()
    {
        var shared = new SharedStores();
        await using MigrationHarness harness = Create(shared).SeedLegacy(10);
        harness.Mapper.FailWhen = c => c.FullName is "First1 Last1" or "First2 Last2";
        await harness.Backfill.RunAsync();
        harness.Mapper.FailWhen = _ => false;

        QuarantineRetrySummary retry = await harness.Backfill.RetryQuarantinedAsync([MigrationHarness.Id(2)]);

        Assert.Equal(new QuarantineRetrySummary(1, 1, 0, 0), retry);
        Assert.Equal([MigrationHarness.Id(1)], (await harness.Backfill.GetQuarantinedAsync()).Select(q => q.EntityId));
    }

    [Fact]
    public async Task RunAsync_ACorruptOldRecord_IsQuarantined_AndTheScanGoesOnAfterIt()
    {
        var shared = new SharedStores();
        string corruptId = MigrationHarness.Id(25);
        var corrupt = new CorruptRecordOldStore<OldCustomer>(shared.Old, corruptId);
        await using MigrationHarness harness = Create(shared, corrupt).SeedLegacy(50);

        BackfillSummary summary = await harness.Backfill.RunAsync();

        Assert.Equal(
            new BackfillCounts
            {
                Scanned = 50,
                Migrated = 49,
                Quarantined = 1,
            },
            summary.Counts
        );
        QuarantinedEntity quarantined = Assert.Single(await harness.Backfill.GetQuarantinedAsync());
        Assert.Equal(corruptId, quarantined.EntityId);
        Assert.StartsWith("CorruptRecordException: ", quarantined.Error, StringComparison.Ordinal);
        Assert.Equal(49, shared.New.Count);
        Assert.Equal(MigrationHarness.Mapped(24), shared.New.Peek(MigrationHarness.Id(24)).Value);
        Assert.Equal(MigrationHarness.Mapped(26), shared.New.Peek(MigrationHarness.Id(26)).Value);
    }
}
