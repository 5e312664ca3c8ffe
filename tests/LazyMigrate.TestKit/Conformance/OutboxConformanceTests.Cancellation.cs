using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>A cancelled token: each call throws <see cref="OperationCanceledException"/>, changing nothing.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Record_WithACancelledToken_ThrowsAndRecordsNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "existing", At(0));
        CancellationToken cancelled = new(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.RecordAsync(
                new OutboxIntent(migration, OutboxItemKind.WriteBack, "new", null, At(0)),
                cancelled
            )
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.RecordAsync(
                new OutboxIntent(migration, OutboxItemKind.WriteBack, "existing", null, At(0)),
                cancelled
            )
        );

        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(0));
        Assert.Equal("existing", item.EntityId);
        Assert.Equal(1, item.Version);
    }

    [Fact]
    public async Task ClaimAndComplete_WithACancelledToken_ThrowAndLeaseOrDeleteNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        CancellationToken cancelled = new(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.ClaimAsync(new OutboxClaim(migration, "cancelled", 10, At(0), At(0) + Lease), cancelled)
        );
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.CompleteAsync([claimed], cancelled)
        );

        Assert.Equal(
            1,
            (await outbox.GetStatisticsAsync(migration)).Pending.GetValueOrDefault(OutboxItemKind.WriteBack)
        );
        Assert.Equal(1, await outbox.CompleteAsync([claimed]));
    }

    [Fact]
    public async Task RescheduleAndDeadLetter_WithACancelledToken_ThrowAndChangeNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));
        CancellationToken cancelled = new(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.RescheduleAsync(claimed, At(1), "cancelled", cancelled)
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.DeadLetterAsync(claimed, "cancelled", cancelled)
        );

        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Empty(await ClaimAsync(outbox, migration, "other", JustBefore(At(0) + Lease)));
        OutboxItem after = await ClaimOneAsync(outbox, migration, "other", At(0) + Lease);
        Assert.Equal(0, after.Attempts);
        Assert.Null(after.LastError);
    }

    [Fact]
    public async Task DeadLetterCalls_WithACancelledToken_ThrowAndChangeNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));
        CancellationToken cancelled = new(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.ListDeadLettersAsync(migration, 10, cancelled)
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.ReplayDeadLettersAsync(migration, null, At(1), cancelled)
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.PurgeDeadLettersAsync(migration, null, cancelled)
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await outbox.GetStatisticsAsync(migration, cancelled)
        );

        Assert.Equal(["a"], IdsOf(await outbox.ListDeadLettersAsync(migration, 10)));
    }
}
