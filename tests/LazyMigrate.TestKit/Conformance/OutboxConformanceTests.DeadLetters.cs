using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Dead letters: listed, replayed or purged on purpose, revived by a new write, never dropped.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task ListDeadLetters_OldestRecordedFirst_UpToTheLimit()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "newest", At(2));
        await RecordAsync(outbox, migration, "oldest", At(0));
        await RecordAsync(outbox, migration, "middle", At(1));
        await DeadLetterDueAsync(outbox, migration, At(2));
        await RecordAsync(outbox, migration, "pending", At(3));

        Assert.Equal(["oldest", "middle"], IdsOf(await outbox.ListDeadLettersAsync(migration, 2)));
        Assert.Equal(["oldest", "middle", "newest"], IdsOf(await outbox.ListDeadLettersAsync(migration, 10)));
    }

    [Fact]
    public async Task Record_AWriteBackOfADeadLetter_RevivesItDueAtOnceWithNoAttempts()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));

        long version = await RecordAsync(outbox, migration, "a", At(100));

        Assert.Equal(2, version);
        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Empty(await ClaimAsync(outbox, migration, "owner", JustBefore(At(100))));
        OutboxItem revived = await ClaimOneAsync(outbox, migration, "owner", At(100));
        Assert.False(revived.IsDeadLettered);
        Assert.Equal(0, revived.Attempts);
        Assert.Equal(At(100), revived.NextAttemptAt);
        Assert.Equal(2, revived.Version);
    }

    [Fact]
    public async Task DeadLetter_OfAnItemWrittenAgainSinceItsClaim_LeavesItPendingWithNoAttempts()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(1));
        await RecordAsync(outbox, migration, "a", At(2)); // a newer write, during the item's last attempt

        await outbox.DeadLetterAsync(claimed, "still failing");

        // The failure was of an older state: the newer write gets its own chances, as a write to a dead letter does.
        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        OutboxItem again = await ClaimOneAsync(outbox, migration, "owner", At(3));
        Assert.Equal(0, again.Attempts);
        Assert.Equal(2, again.Version);
        Assert.Equal("still failing", again.LastError);
    }

    [Fact]
    public async Task Record_AnEventOfADeadLetter_LeavesItDead()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.EntityMigrated, "{}");
        await DeadLetterDueAsync(outbox, migration, At(0));

        long version = await RecordAsync(outbox, migration, "a", At(100), OutboxItemKind.EntityMigrated, "{}");

        Assert.Equal(1, version);
        Assert.Empty(await ClaimAsync(outbox, migration, "owner", At(100)));
        Assert.Single(await outbox.ListDeadLettersAsync(migration, 10));
    }

    [Fact]
    public async Task ReplayDeadLetters_All_MakesThemDueAtNowWithNoAttempts()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await RecordAsync(outbox, migration, "b", At(1), OutboxItemKind.EntityMigrated, "{}");
        await DeadLetterDueAsync(outbox, migration, At(1));

        int replayed = await outbox.ReplayDeadLettersAsync(migration, null, At(50));

        Assert.Equal(2, replayed);
        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Empty(await ClaimAsync(outbox, migration, "owner", JustBefore(At(50))));
        IReadOnlyList<OutboxItem> due = await ClaimAsync(outbox, migration, "owner", At(50));
        Assert.Equal(["a", "b"], SortedIdsOf(due));
        Assert.All(due, i => Assert.Equal(0, i.Attempts));
        Assert.All(due, i => Assert.Equal(At(50), i.NextAttemptAt));
        Assert.All(due, i => Assert.False(i.IsDeadLettered));
    }

    [Fact]
    public async Task ReplayDeadLetters_ByIds_ReplaysOnlyThoseDeadLetters()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await RecordAsync(outbox, migration, "b", At(0));
        await RecordAsync(outbox, migration, "c", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));
        await RecordAsync(outbox, migration, "pending", At(1));
        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(1)), At(99), "backing off");

        int replayed = await outbox.ReplayDeadLettersAsync(migration, ["a", "c", "pending", "unknown"], At(50));

        Assert.Equal(2, replayed);
        Assert.Equal(["b"], IdsOf(await outbox.ListDeadLettersAsync(migration, 10)));
        IReadOnlyList<OutboxItem> replayedItems = await ClaimAsync(outbox, migration, "owner", At(50));
        Assert.Equal(["a", "c"], SortedIdsOf(replayedItems));
        Assert.Equal(2, await outbox.CompleteAsync([.. replayedItems]));
        OutboxItem pending = await ClaimOneAsync(outbox, migration, "owner", At(99));
        Assert.Equal(1, pending.Attempts);
    }

    [Fact]
    public async Task PurgeDeadLetters_All_DeletesOnlyTheDeadLetters()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await RecordAsync(outbox, migration, "b", At(0), OutboxItemKind.EntityMigrated, "{}");
        await DeadLetterDueAsync(outbox, migration, At(0));
        await RecordAsync(outbox, migration, "pending", At(1));

        int purged = await outbox.PurgeDeadLettersAsync(migration, null);

        Assert.Equal(2, purged);
        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Equal(["pending"], IdsOf(await ClaimAsync(outbox, migration, "owner", At(1))));
    }

    [Fact]
    public async Task PurgeDeadLetters_ByIds_DeletesOnlyThoseDeadLetters()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await RecordAsync(outbox, migration, "b", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));
        await RecordAsync(outbox, migration, "pending", At(1));

        int purged = await outbox.PurgeDeadLettersAsync(migration, ["a", "pending", "unknown"]);

        Assert.Equal(1, purged);
        Assert.Equal(["b"], IdsOf(await outbox.ListDeadLettersAsync(migration, 10)));
        Assert.Equal(["pending"], IdsOf(await ClaimAsync(outbox, migration, "owner", At(1))));
    }

    [Fact]
    public async Task DeadLetters_AreNeverClaimed_HoweverLateTheClock()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));

        IReadOnlyList<OutboxItem> claimed = await ClaimAsync(outbox, migration, "owner", T0.AddYears(10));

        Assert.Empty(claimed);
        Assert.Single(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Equal(
            1,
            (await outbox.GetStatisticsAsync(migration)).DeadLettered.GetValueOrDefault(OutboxItemKind.WriteBack)
        );
    }
}
