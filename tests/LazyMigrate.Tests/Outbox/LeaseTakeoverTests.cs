using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// A dispatcher that claimed items and died keeps them only until its lease ends; then another takes them over
/// (Wolverine #565: orphaned claims after a node died).
/// </summary>
public sealed class LeaseTakeoverTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task ADispatcherStoppedMidBatch_NeverCompletes_AnotherTakesTheItemOverOnceTheLeaseEnds()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var held = new WriteTrackingOldStore<OldCustomer>(shared.Old);
        await using var dying = Create(shared, outbox, o => o.LeaseDuration = LeaseDuration, b => b.UseOldStore(held));
        await using var survivor = Create(shared, outbox, o => o.LeaseDuration = LeaseDuration);
        await dying.Repository.SaveAsync(Id, Revision(0, 1));
        held.Hold();

        using var death = new CancellationTokenSource();
        Task<int> dyingBatch = dying.Dispatcher.RunOnceAsync(death.Token).AsTask();
        await held.Reached;
        await death.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dyingBatch);

        OutboxItem orphan = Assert.Single(outbox.Snapshot());
        Assert.NotNull(orphan.LeaseOwner);
        Assert.Equal(0, orphan.Attempts);
        Assert.Equal(0, await survivor.Dispatcher.RunOnceAsync());
        shared.Time.Advance(LeaseDuration - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await survivor.Dispatcher.RunOnceAsync());

        shared.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await survivor.Dispatcher.RunOnceAsync());

        Assert.Equal(RevisionInOldStore(0, 1), shared.Old.Peek(Id));
        Assert.Empty(outbox.Snapshot());
    }
}
