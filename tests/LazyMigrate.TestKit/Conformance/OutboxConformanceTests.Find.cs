using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Finding the items of some entities (every kind and state, nothing else), the sequence every record gives an item,
/// and forward syncs coalescing as write-backs do.
/// </summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Find_ReturnsEveryKindAndStateOfTheEntitiesAsked_AndNothingOfOthers()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        string other = NewMigration();
        await RecordAsync(outbox, migration, "b", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));
        await RecordAsync(outbox, migration, "a", At(1), OutboxItemKind.ForwardSync);
        await ClaimOneAsync(outbox, migration, "owner", At(1));
        await RecordAsync(outbox, migration, "a", At(5));
        await RecordAsync(outbox, migration, "a", At(5), OutboxItemKind.EntityMigrated, "{}");
        await RecordAsync(outbox, migration, "c", At(5));
        await RecordAsync(outbox, other, "a", At(5));

        IReadOnlyList<OutboxItem> found = await outbox.FindAsync(migration, ["a", "b", "missing"]);

        Assert.Equal(
            [
                "a WriteBack pending",
                "a EntityMigrated pending",
                "a ForwardSync leased by owner",
                "b WriteBack dead-lettered",
            ],
            found
                .OrderBy(i => i.EntityId, StringComparer.Ordinal)
                .ThenBy(i => i.Kind)
                .Select(i =>
                    $"{i.EntityId} {i.Kind} "
                    + (
                        i.IsDeadLettered ? "dead-lettered"
                        : i.LeaseOwner is { } owner ? $"leased by {owner}"
                        : "pending"
                    )
                )
        );
        Assert.All(found, i => Assert.Equal(migration, i.Migration));
    }

    [Fact]
    public async Task Find_NoIds_ReturnsNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));

        Assert.Empty(await outbox.FindAsync(migration, []));
    }

    [Fact]
    public async Task Find_AnItem_HasTheVersionAndSequenceAClaimSees()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.ForwardSync);
        await RecordAsync(outbox, migration, "a", At(1), OutboxItemKind.ForwardSync);

        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(1));
        OutboxItem found = Assert.Single(await outbox.FindAsync(migration, ["a"]));

        Assert.Equal(2, found.Version);
        Assert.Equal(claimed.Version, found.Version);
        Assert.Equal(claimed.Sequence, found.Sequence);
        Assert.Equal(At(0), found.RecordedAt);
        Assert.Equal("owner", found.LeaseOwner);
    }

    [Fact]
    public async Task Record_EveryRecordOfAnyItem_GivesItAGreaterSequenceThanAnyBefore()
    {
        var outbox = await CreateOutboxAsync();
        var another = await AnotherInstanceAsync(outbox);
        string migration = NewMigration();
        string other = NewMigration();
        var sequences = new List<(string Record, long Sequence)>();
        async Task RecordAndReadAsync(IMigrationOutbox on, string m, string id, OutboxItemKind kind)
        {
            await on.RecordAsync(
                new OutboxIntent(m, kind, id, kind == OutboxItemKind.EntityMigrated ? "{}" : null, At(0))
            );
            string record = (m == other ? "other " : "") + $"{kind} {id}";
            sequences.Add((record, await SequenceOfAsync(outbox, m, kind, id)));
        }

        await RecordAndReadAsync(outbox, migration, "a", OutboxItemKind.WriteBack);
        await RecordAndReadAsync(outbox, migration, "b", OutboxItemKind.ForwardSync);
        await RecordAndReadAsync(another, other, "a", OutboxItemKind.WriteBack);
        await RecordAndReadAsync(outbox, migration, "c", OutboxItemKind.EntityMigrated);
        await RecordAndReadAsync(another, migration, "a", OutboxItemKind.WriteBack);
        await RecordAndReadAsync(outbox, migration, "b", OutboxItemKind.ForwardSync);
        await RecordAndReadAsync(outbox, migration, "a", OutboxItemKind.ForwardSync);

        for (int i = 1; i < sequences.Count; i++)
        {
            Assert.True(
                sequences[i].Sequence > sequences[i - 1].Sequence,
                $"The record of {sequences[i].Record} got sequence {sequences[i].Sequence}, not more than "
                    + $"{sequences[i - 1].Sequence}, which the record of {sequences[i - 1].Record} got before it."
            );
        }
    }

    [Fact]
    public async Task Record_AnEventThatExists_KeepsItsSequence()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.EntityMigrated, "{}");
        long first = await SequenceOfAsync(outbox, migration, OutboxItemKind.EntityMigrated, "a");
        await RecordAsync(outbox, migration, "b", At(1));

        await RecordAsync(outbox, migration, "a", At(2), OutboxItemKind.EntityMigrated, "{}");

        Assert.Equal(first, await SequenceOfAsync(outbox, migration, OutboxItemKind.EntityMigrated, "a"));
        Assert.True(await SequenceOfAsync(outbox, migration, OutboxItemKind.WriteBack, "b") > first);
    }

    [Fact]
    public async Task Record_AForwardSyncAgain_CoalescesLikeAWriteBack()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.ForwardSync);
        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(0)), At(60), "down");

        long version = await RecordAsync(outbox, migration, "a", At(10), OutboxItemKind.ForwardSync);

        Assert.Equal(2, version);
        Assert.Empty(await ClaimAsync(outbox, migration, "early", JustBefore(At(60))));
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(60));
        Assert.Equal(OutboxItemKind.ForwardSync, item.Kind);
        Assert.Equal(2, item.Version);
        Assert.Equal(At(0), item.RecordedAt);
        Assert.Equal(At(60), item.NextAttemptAt);
        Assert.Equal(1, item.Attempts);
    }

    [Fact]
    public async Task Record_AForwardSyncOfADeadLetter_RevivesItDueAtOnceWithNoAttemptsAndANewSequence()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.ForwardSync);
        OutboxItem dead = Assert.Single(await DeadLetterDueAsync(outbox, migration, At(0)));

        long version = await RecordAsync(outbox, migration, "a", At(100), OutboxItemKind.ForwardSync);

        Assert.Equal(2, version);
        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Empty(await ClaimAsync(outbox, migration, "owner", JustBefore(At(100))));
        OutboxItem revived = await ClaimOneAsync(outbox, migration, "owner", At(100));
        Assert.Equal(OutboxItemKind.ForwardSync, revived.Kind);
        Assert.False(revived.IsDeadLettered);
        Assert.Equal(0, revived.Attempts);
        Assert.Equal(At(100), revived.NextAttemptAt);
        Assert.Equal(2, revived.Version);
        Assert.True(revived.Sequence > dead.Sequence, $"Revived at {revived.Sequence}, dead at {dead.Sequence}.");
    }

    [Fact]
    public async Task Record_AWriteBackAfterAForwardSyncOfOneEntity_HasTheGreaterSequence_AndThenTheLesser()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.ForwardSync);
        await RecordAsync(outbox, migration, "a", At(1));
        long writeBack = await SequenceOfAsync(outbox, migration, OutboxItemKind.WriteBack, "a");
        Assert.True(writeBack > await SequenceOfAsync(outbox, migration, OutboxItemKind.ForwardSync, "a"));

        // The old API writes again: its coalesced forward sync is now the later of the two.
        await RecordAsync(outbox, migration, "a", At(2), OutboxItemKind.ForwardSync);

        Assert.True(await SequenceOfAsync(outbox, migration, OutboxItemKind.ForwardSync, "a") > writeBack);
        Assert.Equal(writeBack, await SequenceOfAsync(outbox, migration, OutboxItemKind.WriteBack, "a"));
    }

    /// <summary>The sequence of one item, found by <see cref="IMigrationOutbox.FindAsync"/>.</summary>
    protected static async Task<long> SequenceOfAsync(
        IMigrationOutbox outbox,
        string migration,
        OutboxItemKind kind,
        string id
    ) => Assert.Single(await outbox.FindAsync(migration, [id]), i => i.Kind == kind).Sequence;
}
