using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Backfill;

public sealed class BackfillQuarantineTests
{
    private static MigrationHarness Create(
        SharedStores shared,
        IOldStore<OldCustomer>? oldStore = null,
        INewStore<NewCustomer>? newStore = null,
        bool forwardSync = false
    ) =>
        MigrationHarness.Create(
            shared,
            o => o.ForwardSync = forwardSync,
            b =>
            {
                if (newStore is not null)
                {
                    b.UseNewStore(newStore);
                }

                if (forwardSync)
                {
                    b.UseInMemoryOutbox(new InMemoryOutbox());
                }

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

        AssertTwoOfFiftyQuarantined(summary, quarantined, bad, nameof(MigrationMappingException));
        Assert.All(quarantined, q => Assert.Contains("the full name has no space", q.Error, StringComparison.Ordinal));
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_AnEntityTheNewStoreCannotHold_IsQuarantined_AndTheRestOfItsBatchMigrate(bool forwardSync)
    {
        var shared = new SharedStores();
        string[] unstorable = [MigrationHarness.Id(7), MigrationHarness.Id(12)];
        var store = new UnstorableNewStore<NewCustomer>(shared.New, unstorable);
        await using MigrationHarness harness = Create(shared, newStore: store, forwardSync: forwardSync).SeedLegacy(50);

        BackfillSummary summary = await harness.Backfill.RunAsync();
        IReadOnlyList<QuarantinedEntity> quarantined = await harness.Backfill.GetQuarantinedAsync();

        AssertTwoOfFiftyQuarantined(summary, quarantined, unstorable, nameof(UnstorableEntityException));
        Assert.Equal(48, shared.New.Count);
        Assert.Equal(MigrationHarness.Mapped(6), shared.New.Peek(MigrationHarness.Id(6)).Value);
        Assert.Equal(MigrationHarness.Mapped(8), shared.New.Peek(MigrationHarness.Id(8)).Value);
        Assert.Equal(NewStoreState.Missing, shared.New.Peek(unstorable[0]).State);
    }

    [Fact]
    public async Task RetryQuarantinedAsync_AnEntityTheNewStoreStillCannotHold_StaysQuarantined()
    {
        var shared = new SharedStores();
        string id = MigrationHarness.Id(4);
        var store = new UnstorableNewStore<NewCustomer>(shared.New, id);
        await using MigrationHarness harness = Create(shared, newStore: store).SeedLegacy(10);
        await harness.Backfill.RunAsync();

        QuarantineRetrySummary retry = await harness.Backfill.RetryQuarantinedAsync();

        Assert.Equal(new QuarantineRetrySummary(1, 0, 0, 1), retry);
        QuarantinedEntity still = Assert.Single(await harness.Backfill.GetQuarantinedAsync());
        Assert.Equal(id, still.EntityId);
        Assert.Equal(2, still.Attempts);
    }

    /// <summary>
    /// A complete run over fifty entities that migrated all but <paramref name="ids"/>, quarantined with an error that
    /// names the exception and the id.
    /// </summary>
    private static void AssertTwoOfFiftyQuarantined(
        BackfillSummary summary,
        IReadOnlyList<QuarantinedEntity> quarantined,
        string[] ids,
        string exception
    )
    {
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
        Assert.Equal(ids, quarantined.Select(q => q.EntityId));
        Assert.All(
            quarantined,
            q =>
            {
                Assert.StartsWith(exception + ": ", q.Error, StringComparison.Ordinal);
                Assert.Contains(q.EntityId, q.Error, StringComparison.Ordinal);
            }
        );
    }
}
