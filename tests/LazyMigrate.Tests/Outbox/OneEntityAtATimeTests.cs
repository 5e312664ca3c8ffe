using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// One entity is applied by one dispatcher at a time, even when a slow dispatcher's lease ended and another claimed
/// the item: so a stale state never overwrites a newer one in the old store (invariant 4).
/// </summary>
public sealed class OneEntityAtATimeTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private static readonly string Id = MigrationHarness.Id(0);

    /// <summary>A store call may outlast the lease, yet be within its attempt timeout: it is not retried.</summary>
    private static void Slow(LazyMigrationOptions options) => options.AttemptTimeout = LeaseDuration * 4;

    [Fact]
    public async Task TwoDispatchersOnOneOutbox_TheSecondWaitsForTheEntityWhileTheFirstWritesIt_TheNewestStateWins()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var old = new WriteTrackingOldStore<OldCustomer>(shared.Old);
        await using var slow = Create(
            shared,
            outbox,
            o => o.LeaseDuration = LeaseDuration,
            b => b.UseOldStore(old),
            Slow
        );
        await using var other = Create(
            shared,
            outbox,
            o => o.LeaseDuration = LeaseDuration,
            b => b.UseOldStore(old),
            Slow
        );
        await slow.Repository.SaveAsync(Id, Revision(0, 1));
        old.Hold();

        Task<int> slowBatch = slow.Dispatcher.RunOnceAsync().AsTask();
        await old.Reached;
        await other.Repository.SaveAsync(Id, Revision(0, 2));

        // The slow dispatcher's lease ends while it still writes: the other claims the item and must wait for it.
        shared.Time.Advance(LeaseDuration);
        Task<int> otherBatch = other.Dispatcher.RunOnceAsync().AsTask();
        await Eventually.TrueAsync(
            () => shared.Lock.WaiterCount(MigrationHarness.LockKey(Id)) > 0 || old.WritesOf(Id) > 1,
            what: "the second dispatcher waiting for the entity or writing it"
        );
        Assert.Equal(1, old.WritesOf(Id));
        Assert.False(otherBatch.IsCompleted);

        old.Release();
        Assert.Equal(1, await slowBatch);
        Assert.Equal(1, await otherBatch);

        Assert.Equal(1, old.MostWritesOfOneIdAtOnce);
        Assert.Equal(2, old.WritesOf(Id));
        Assert.Equal(RevisionInOldStore(0, 2), shared.Old.Peek(Id));
        Assert.Empty(outbox.Snapshot());
    }
}
