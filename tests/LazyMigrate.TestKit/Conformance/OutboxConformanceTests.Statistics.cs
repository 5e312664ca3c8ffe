using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Statistics by kind, migrations kept apart, and entity ids as they were given.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task GetStatistics_CountsPendingOldestAndDeadLettered_ByKind()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "dead", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0));
        await RecordAsync(outbox, migration, "leased", At(3));
        await ClaimOneAsync(outbox, migration, "owner", At(3));
        await RecordAsync(outbox, migration, "due", At(5));
        await RecordAsync(outbox, migration, "event-backing-off", At(2), OutboxItemKind.EntityMigrated, "{}");
        OutboxItem failing = await ClaimOneAsync(outbox, migration, "owner", At(4));
        await outbox.RescheduleAsync(failing, At(60), "handler throws");
        await RecordAsync(outbox, migration, "event-due", At(4), OutboxItemKind.EntityMigrated, "{}");

        OutboxStatistics statistics = await outbox.GetStatisticsAsync(migration);

        Assert.Equal(2, statistics.Pending.GetValueOrDefault(OutboxItemKind.WriteBack));
        Assert.Equal(2, statistics.Pending.GetValueOrDefault(OutboxItemKind.EntityMigrated));
        Assert.Equal(At(3), statistics.OldestPendingRecordedAt.GetValueOrDefault(OutboxItemKind.WriteBack));
        Assert.Equal(At(2), statistics.OldestPendingRecordedAt.GetValueOrDefault(OutboxItemKind.EntityMigrated));
        Assert.Equal(1, statistics.DeadLettered.GetValueOrDefault(OutboxItemKind.WriteBack));
        Assert.False(statistics.DeadLettered.ContainsKey(OutboxItemKind.EntityMigrated));
    }

    [Fact]
    public async Task GetStatistics_OfAnEmptyMigration_HasNoKinds()
    {
        var outbox = await CreateOutboxAsync();

        OutboxStatistics statistics = await outbox.GetStatisticsAsync(NewMigration());

        Assert.Empty(statistics.Pending);
        Assert.Empty(statistics.OldestPendingRecordedAt);
        Assert.Empty(statistics.DeadLettered);
    }

    [Fact]
    public async Task Migrations_NeverSeeEachOthersItems()
    {
        var outbox = await CreateOutboxAsync();
        string mine = NewMigration();
        string theirs = NewMigration();
        await RecordAsync(outbox, theirs, "dead", At(0));
        await DeadLetterDueAsync(outbox, theirs, At(0));
        await RecordAsync(outbox, theirs, "a", At(0));
        await RecordAsync(outbox, theirs, "a", At(0));
        await RecordAsync(outbox, theirs, "a", At(1));

        Assert.Equal(1, await RecordAsync(outbox, mine, "a", At(1)));
        Assert.Empty(await outbox.ListDeadLettersAsync(mine, 10));
        Assert.Equal(0, await outbox.ReplayDeadLettersAsync(mine, null, At(1)));
        Assert.Equal(0, await outbox.PurgeDeadLettersAsync(mine, null));
        Assert.Empty((await outbox.GetStatisticsAsync(mine)).DeadLettered);
        Assert.Equal(1, (await outbox.GetStatisticsAsync(mine)).Pending.GetValueOrDefault(OutboxItemKind.WriteBack));
        OutboxItem item = await ClaimOneAsync(outbox, mine, "owner", At(1));
        Assert.Equal(mine, item.Migration);
        Assert.Equal(1, await outbox.CompleteAsync([item]));

        OutboxItem left = await ClaimOneAsync(outbox, theirs, "owner", At(1));
        Assert.Equal(3, left.Version);
        Assert.Equal(["dead"], IdsOf(await outbox.ListDeadLettersAsync(theirs, 10)));
    }

    [Fact]
    public async Task EntityIds_WithOddCharacters_RoundTrip()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        string[] ids =
        [
            "it's",
            "\"quoted\"",
            "back\\slash",
            "semi;colon -- comment",
            "%_like*?",
            "with space ",
            "ünïcødé 日本 🙂",
            new string('x', 200),
            string.Concat(Enumerable.Repeat("é", 200)),
        ];
        foreach (string id in ids)
        {
            await RecordAsync(outbox, migration, id, At(0));
            Assert.Equal(2, await RecordAsync(outbox, migration, id, At(0)));
        }

        IReadOnlyList<OutboxItem> dead = await DeadLetterDueAsync(outbox, migration, At(0));

        Assert.Equal(ids.Order(StringComparer.Ordinal), SortedIdsOf(dead));
        Assert.Equal(ids.Order(StringComparer.Ordinal), SortedIdsOf(await outbox.ListDeadLettersAsync(migration, 100)));
        Assert.Equal(ids.Length, await outbox.ReplayDeadLettersAsync(migration, ids, At(1)));
        IReadOnlyList<OutboxItem> replayed = await DeadLetterDueAsync(outbox, migration, At(1));
        Assert.Equal(ids.Length, replayed.Count);
        Assert.Equal(ids.Length, await outbox.PurgeDeadLettersAsync(migration, ids));
        Assert.Empty((await outbox.GetStatisticsAsync(migration)).DeadLettered);
    }
}
