using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Completion: deletes an item at the version claimed, releases one a later write changed.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Complete_AtTheClaimedVersion_DeletesTheItem()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));

        int deleted = await outbox.CompleteAsync([claimed]);

        Assert.Equal(1, deleted);
        Assert.Empty(await ClaimAsync(outbox, migration, "next", At(0) + Lease));
        Assert.Empty((await outbox.GetStatisticsAsync(migration)).Pending);
        Assert.Equal(1, await RecordAsync(outbox, migration, "a", At(100)));
    }

    [Fact]
    public async Task Complete_AfterALaterRecord_KeepsTheItemAndReleasesItDueAtOnce()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));
        await RecordAsync(outbox, migration, "a", At(1));

        int deleted = await outbox.CompleteAsync([claimed]);

        Assert.Equal(0, deleted);
        OutboxItem next = await ClaimOneAsync(outbox, migration, "next", At(2));
        Assert.Equal(2, next.Version);
        Assert.Equal(1, await outbox.CompleteAsync([next]));
    }

    [Fact]
    public async Task Complete_TwiceOrOfAnUnknownItem_DeletesNothingMore()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));
        OutboxItem unknown = new()
        {
            Migration = migration,
            Kind = OutboxItemKind.WriteBack,
            EntityId = "never-recorded",
            Version = 1,
            RecordedAt = At(0),
            NextAttemptAt = At(0),
            LeaseOwner = "owner",
        };

        Assert.Equal(1, await outbox.CompleteAsync([claimed, unknown]));
        Assert.Equal(0, await outbox.CompleteAsync([claimed]));
        Assert.Equal(0, await outbox.CompleteAsync([]));
    }

    [Fact]
    public async Task Complete_ByAnOwnerWhoseLeasePassed_DeletesNothing_TheNewOwnerCompletes()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        var (late, taken) = await TakeOverAsync(outbox, migration);

        // The item is the new owner's to settle: the late owner's completion could otherwise delete a newer item of
        // the entity recorded at the same version after the new owner completed (a version starts again at 1).
        Assert.Equal(0, await outbox.CompleteAsync([late]));
        Assert.Equal(1, await outbox.CompleteAsync([taken]));
        Assert.Empty((await outbox.GetStatisticsAsync(migration)).Pending);
    }

    [Fact]
    public async Task Complete_ByAnOwnerWhoseLeasePassed_NeverDeletesTheEntitysNextItem_AtTheSameVersion()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        var (late, taken) = await TakeOverAsync(outbox, migration);
        Assert.Equal(1, await outbox.CompleteAsync([taken]));
        await RecordAsync(outbox, migration, "a", At(5)); // a new write: a new item, at version 1 again

        Assert.Equal(0, await outbox.CompleteAsync([late]));

        Assert.Equal(1L, (await outbox.GetStatisticsAsync(migration)).Pending[OutboxItemKind.WriteBack]);
    }

    [Fact]
    public async Task Complete_ByAnOwnerWhoseLeasePassed_LeavesTheNewOwnersLease()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem late = await ClaimOneAsync(outbox, migration, "late", At(0));
        await RecordAsync(outbox, migration, "a", At(1));
        OutboxItem taken = await ClaimOneAsync(outbox, migration, "taker", At(0) + Lease);

        Assert.Equal(0, await outbox.CompleteAsync([late]));

        Assert.Empty(await ClaimAsync(outbox, migration, "third", JustBefore(taken.LeaseExpiresAt!.Value)));
        Assert.Equal(1, await outbox.CompleteAsync([taken]));
    }

    [Fact]
    public async Task Complete_ALargeBatch_DeletesTheUnchangedAndReleasesTheChangedInOneCall()
    {
        const int Count = 500;
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        for (int i = 0; i < Count; i++)
        {
            await RecordAsync(outbox, migration, $"item-{i:D3}", At(0));
        }

        IReadOnlyList<OutboxItem> claimed = await ClaimAsync(outbox, migration, "owner", At(0), maxItems: Count);
        for (int i = 0; i < Count; i += 2)
        {
            await RecordAsync(outbox, migration, $"item-{i:D3}", At(1));
        }

        int deleted = await outbox.CompleteAsync([.. claimed]);

        Assert.Equal(Count, claimed.Count);
        Assert.Equal(Count / 2, deleted);
        IReadOnlyList<OutboxItem> released = await ClaimAsync(outbox, migration, "next", At(2), maxItems: Count);
        Assert.Equal([.. Enumerable.Range(0, Count / 2).Select(i => $"item-{i * 2:D3}")], SortedIdsOf(released));
        Assert.All(released, i => Assert.Equal(2, i.Version));
    }
}
