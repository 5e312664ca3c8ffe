using System.Collections.Concurrent;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
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
    private sealed class CompletionRecordingOutbox(InMemoryOutbox inner) : IMigrationOutbox
    {
        private readonly ConcurrentQueue<int> _completions = new();

        public InMemoryOutbox Inner => inner;

        public int[] Completions => [.. _completions];

        public ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default) =>
            inner.RecordAsync(intent, cancellationToken);

        public ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
            OutboxClaim claim,
            CancellationToken cancellationToken = default
        ) => inner.ClaimAsync(claim, cancellationToken);

        public ValueTask<int> CompleteAsync(
            IReadOnlyCollection<OutboxItem> items,
            CancellationToken cancellationToken = default
        )
        {
            _completions.Enqueue(items.Count);
            return inner.CompleteAsync(items, cancellationToken);
        }

        public ValueTask RescheduleAsync(
            OutboxItem item,
            DateTimeOffset nextAttemptAt,
            string error,
            CancellationToken cancellationToken = default
        ) => inner.RescheduleAsync(item, nextAttemptAt, error, cancellationToken);

        public ValueTask DeadLetterAsync(
            OutboxItem item,
            string error,
            CancellationToken cancellationToken = default
        ) => inner.DeadLetterAsync(item, error, cancellationToken);

        public ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
            string migration,
            int limit,
            CancellationToken cancellationToken = default
        ) => inner.ListDeadLettersAsync(migration, limit, cancellationToken);

        public ValueTask<int> ReplayDeadLettersAsync(
            string migration,
            IReadOnlyCollection<string>? entityIds,
            DateTimeOffset now,
            CancellationToken cancellationToken = default
        ) => inner.ReplayDeadLettersAsync(migration, entityIds, now, cancellationToken);

        public ValueTask<int> PurgeDeadLettersAsync(
            string migration,
            IReadOnlyCollection<string>? entityIds,
            CancellationToken cancellationToken = default
        ) => inner.PurgeDeadLettersAsync(migration, entityIds, cancellationToken);

        public ValueTask<OutboxStatistics> GetStatisticsAsync(
            string migration,
            CancellationToken cancellationToken = default
        ) => inner.GetStatisticsAsync(migration, cancellationToken);
    }
}
