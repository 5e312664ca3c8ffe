using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Write-back items are state-based and coalesced per entity: several writes make one item, applied with the state the
/// new store holds then, and completed only if no write came after that state (invariant 4).
/// </summary>
public sealed class CoalescingTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task SeveralSavesOfOneId_BeforeADrain_LeaveOnePendingItem_AppliedOnceWithTheLatestState()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var old = new WriteTrackingOldStore<OldCustomer>(shared.Old);
        await using var harness = Create(shared, outbox, configure: b => b.UseOldStore(old));

        for (int revision = 1; revision <= 3; revision++)
        {
            await harness.Repository.SaveAsync(Id, Revision(0, revision));
        }

        // One item, whose version each write moved on (a store without transactions records each write twice).
        OutboxItem pending = Assert.Single(outbox.Snapshot());
        Assert.Equal((OutboxItemKind.WriteBack, Id), (pending.Kind, pending.EntityId));
        Assert.True(pending.Version >= 3, $"version {pending.Version} after three writes");

        await harness.DrainAsync();

        Assert.Equal(1, old.WritesOf(Id));
        Assert.Equal(RevisionInOldStore(0, 3), shared.Old.Peek(Id));
        Assert.Empty(outbox.Snapshot());
    }

    [Fact]
    public async Task ASaveLandingWhileTheOldWriteIsHeld_LeavesTheItemPending_AndTheNextBatchAppliesTheNewerState()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var old = new WriteTrackingOldStore<OldCustomer>(shared.Old);
        await using var harness = Create(shared, outbox, configure: b => b.UseOldStore(old));
        await harness.Repository.SaveAsync(Id, Revision(0, 1));
        long applied = Assert.Single(outbox.Snapshot()).Version;
        old.Hold();

        Task<int> first = harness.Dispatcher.RunOnceAsync().AsTask();
        await old.Reached;
        await harness.Repository.SaveAsync(Id, Revision(0, 2));
        old.Release();
        Assert.Equal(1, await first);

        Assert.Equal(RevisionInOldStore(0, 1), shared.Old.Peek(Id));
        OutboxItem pending = Assert.Single(outbox.Snapshot());
        Assert.True(pending.Version > applied, $"version {pending.Version}, applied {applied}");
        Assert.Null(pending.LeaseOwner);
        Assert.Equal(0, pending.Attempts);

        Assert.Equal(1, await harness.Dispatcher.RunOnceAsync());

        Assert.Equal(RevisionInOldStore(0, 2), shared.Old.Peek(Id));
        Assert.Empty(outbox.Snapshot());
        Assert.Equal(2, old.WritesOf(Id));
    }

    [Fact]
    public async Task SaveThenDelete_BeforeADrain_OneItem_TheOldStoreEndsDeleted()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        await using var harness = Create(shared, outbox).SeedLegacy(1);

        await harness.Repository.SaveAsync(Id, Revision(0, 1));
        await harness.Repository.DeleteAsync(Id);
        Assert.Single(outbox.Snapshot());
        await harness.DrainAsync();

        Assert.Null(shared.Old.Peek(Id));
        Assert.Empty(outbox.Snapshot());
    }
}
