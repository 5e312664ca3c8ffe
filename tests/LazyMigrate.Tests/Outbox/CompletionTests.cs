using System.Collections.Concurrent;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Completed items are deleted at once, in batches no larger than a claim, so the outbox does not grow (NServiceBus
/// #778, Wolverine 6.24).
/// </summary>
public sealed class CompletionTests
{
    [Fact]
    public async Task ADrainOf250Items_DeletesEveryCompletedItem_InBatchesOfAtMostBatchSize_AndTheOutboxEndsEmpty()
    {
        var shared = new SharedStores();
        var outbox = new CompletionRecordingOutbox(new InMemoryOutbox());
        await using var harness = MigrationHarness.Create(
            shared,
            o => o.WriteBackMode = WriteBackMode.Async,
            b =>
                b.UseOutbox(outbox)
                    .ConfigureOutbox(o =>
                    {
                        o.DispatchOnWrite = false;
                        o.BatchSize = 100;
                    })
        );
        for (int n = 0; n < 250; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), Revision(n, 1));
        }

        Assert.Equal(250, await harness.Dispatcher.DrainAsync());

        Assert.Equal([100, 100, 50], outbox.Completions);
        Assert.Empty(outbox.Inner.Snapshot());
        Assert.Empty((await harness.Dispatcher.GetStatisticsAsync()).Pending);
        Assert.Equal(RevisionInOldStore(249, 1), shared.Old.Peek(MigrationHarness.Id(249)));
    }

    /// <summary>An in-memory outbox that records the size of each completion call.</summary>
    private sealed class CompletionRecordingOutbox(InMemoryOutbox inner) : DelegatingOutbox(inner)
    {
        private readonly ConcurrentQueue<int> _completions = new();

        public new InMemoryOutbox Inner => (InMemoryOutbox)base.Inner;

        public int[] Completions => [.. _completions];

        public override ValueTask<int> CompleteAsync(
            IReadOnlyCollection<OutboxItem> items,
            CancellationToken cancellationToken = default
        )
        {
            _completions.Enqueue(items.Count);
            return base.CompleteAsync(items, cancellationToken);
        }
    }
}
