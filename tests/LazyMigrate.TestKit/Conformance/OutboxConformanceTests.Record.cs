using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Recording: one item per (migration, kind, entity), write-backs coalesced, events inserted once.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Record_ANewWriteBack_IsVersionOneAndDueAtItsRecordedTime()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();

        long version = await RecordAsync(outbox, migration, "a", At(5));

        Assert.Equal(1, version);
        Assert.Empty(await ClaimAsync(outbox, migration, "early", JustBefore(At(5))));
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(5));
        Assert.Equal(migration, item.Migration);
        Assert.Equal(OutboxItemKind.WriteBack, item.Kind);
        Assert.Equal("a", item.EntityId);
        Assert.Equal(1, item.Version);
        Assert.Null(item.Payload);
        Assert.Equal(At(5), item.RecordedAt);
        Assert.Equal(At(5), item.NextAttemptAt);
        Assert.Equal(0, item.Attempts);
        Assert.Null(item.LastError);
        Assert.False(item.IsDeadLettered);
        Assert.Equal("owner", item.LeaseOwner);
        Assert.Equal(At(5) + Lease, item.LeaseExpiresAt);
    }

    [Fact]
    public async Task Record_AWriteBackAgain_ReturnsTheNextVersion()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();

        long[] versions =
        [
            await RecordAsync(outbox, migration, "a", At(0)),
            await RecordAsync(outbox, migration, "a", At(1)),
            await RecordAsync(outbox, migration, "a", At(2)),
        ];

        Assert.Equal([1L, 2L, 3L], versions);
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(2));
        Assert.Equal(3, item.Version);
    }

    [Fact]
    public async Task Record_AWriteBackThatBacksOff_KeepsRecordedAtAttemptsAndNextAttempt()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(0)), At(60), "down");

        long version = await RecordAsync(outbox, migration, "a", At(10));

        Assert.Equal(2, version);
        Assert.Empty(await ClaimAsync(outbox, migration, "early", JustBefore(At(60))));
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(60));
        Assert.Equal(2, item.Version);
        Assert.Equal(At(0), item.RecordedAt);
        Assert.Equal(At(60), item.NextAttemptAt);
        Assert.Equal(1, item.Attempts);
    }

    [Fact]
    public async Task Record_AWriteBackOfALeasedItem_KeepsTheLease()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await ClaimOneAsync(outbox, migration, "first", At(0));

        await RecordAsync(outbox, migration, "a", At(1));

        Assert.Empty(await ClaimAsync(outbox, migration, "second", At(1)));
        OutboxItem item = await ClaimOneAsync(outbox, migration, "second", At(0) + Lease);
        Assert.Equal(2, item.Version);
    }

    [Fact]
    public async Task Record_AnEvent_KeepsItsPayload()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        const string Payload = """
            {"eventId":"0f8e2a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
            "old":{"name":"O'Brien \"Bob\"","note":"ünï 日本 🙂"},
            "new":{"name":"Bob O'Brien","tags":["a","b"],"version":3,"active":true,"deleted":null}}
            """;

        long version = await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.EntityMigrated, Payload);

        Assert.Equal(1, version);
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(0));
        Assert.Equal(OutboxItemKind.EntityMigrated, item.Kind);
        Assert.Equal(1, item.Version);
        AssertSameJson(Payload, item.Payload);
    }

    [Fact]
    public async Task Record_AnEventThatExists_ChangesNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0), OutboxItemKind.EntityMigrated, """{"first":true}""");

        long version = await RecordAsync(outbox, migration, "a", At(5), OutboxItemKind.EntityMigrated, """{"a":2}""");

        Assert.Equal(1, version);
        OutboxItem item = await ClaimOneAsync(outbox, migration, "owner", At(5));
        Assert.Equal(1, item.Version);
        Assert.Equal(At(0), item.RecordedAt);
        AssertSameJson("""{"first":true}""", item.Payload);
    }

    [Fact]
    public async Task Record_BothKindsOfOneEntity_AreTwoItems()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();

        long writeBack = await RecordAsync(outbox, migration, "a", At(0));
        long migrated = await RecordAsync(outbox, migration, "a", At(1), OutboxItemKind.EntityMigrated, "{}");

        Assert.Equal(1, writeBack);
        Assert.Equal(1, migrated);
        IReadOnlyList<OutboxItem> items = await ClaimAsync(outbox, migration, "owner", At(1));
        Assert.Equal([OutboxItemKind.WriteBack, OutboxItemKind.EntityMigrated], items.Select(i => i.Kind));
    }
}
