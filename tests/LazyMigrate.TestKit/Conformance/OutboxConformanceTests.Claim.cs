using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Claims: due items only, oldest due first, at most the claim's count, one owner at a time.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Claim_TakesOnlyDueItemsOfItsMigration_OldestDueFirst()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "later", At(3));
        await RecordAsync(outbox, migration, "oldest", At(1));
        await RecordAsync(outbox, migration, "event", At(2), OutboxItemKind.EntityMigrated, "{}");
        await RecordAsync(outbox, migration, "not-yet", At(10));
        await RecordAsync(outbox, NewMigration(), "elsewhere", At(0));

        IReadOnlyList<OutboxItem> items = await ClaimAsync(outbox, migration, "owner", At(5));

        Assert.Equal(["oldest", "event", "later"], IdsOf(items));
        Assert.All(items, i => Assert.Equal(migration, i.Migration));
    }

    [Fact]
    public async Task Claim_TakesAtMostMaxItems_AndTheNextClaimTheRest()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        for (int i = 0; i < 5; i++)
        {
            await RecordAsync(outbox, migration, $"item-{i}", At(i));
        }

        IReadOnlyList<OutboxItem> first = await ClaimAsync(outbox, migration, "first", At(10), maxItems: 2);
        IReadOnlyList<OutboxItem> second = await ClaimAsync(outbox, migration, "second", At(10), maxItems: 2);
        IReadOnlyList<OutboxItem> third = await ClaimAsync(outbox, migration, "third", At(10), maxItems: 2);

        Assert.Equal(["item-0", "item-1"], IdsOf(first));
        Assert.Equal(["item-2", "item-3"], IdsOf(second));
        Assert.Equal(["item-4"], IdsOf(third));
    }

    [Fact]
    public async Task Claim_ALeasedItem_IsSkippedUntilTheLeaseEnds()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await ClaimOneAsync(outbox, migration, "first", At(0));

        IReadOnlyList<OutboxItem> during = await ClaimAsync(outbox, migration, "second", JustBefore(At(0) + Lease));
        OutboxItem after = await ClaimOneAsync(outbox, migration, "second", At(0) + Lease);

        Assert.Empty(during);
        Assert.Equal("second", after.LeaseOwner);
        Assert.Equal(At(0) + Lease + Lease, after.LeaseExpiresAt);
    }

    [Fact]
    public async Task Claim_ByTheSameOwnerAgain_SkipsWhatItHolds()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await ClaimOneAsync(outbox, migration, "owner", At(0));

        Assert.Empty(await ClaimAsync(outbox, migration, "owner", At(1)));
    }

    [Fact]
    public async Task Claim_ByManyOwnersTogether_NeverLeasesAnItemTwice_AndLeasesThemAll()
    {
        const int Owners = 4;
        const int ItemsPerRound = 40;
        var outbox = await CreateOutboxAsync();
        IMigrationOutbox[] instances = new IMigrationOutbox[Owners];
        for (int i = 0; i < Owners; i++)
        {
            instances[i] = await AnotherInstanceAsync(outbox);
        }

        string migration = NewMigration();
        for (int round = 0; round < 5; round++)
        {
            DateTimeOffset now = At(round * 100);
            for (int i = 0; i < ItemsPerRound; i++)
            {
                await RecordAsync(outbox, migration, $"round-{round}-item-{i:D2}", now);
            }

            // Together the owners ask for more than there is, so every item is someone's to take.
            IReadOnlyList<OutboxItem>[] claimed = await StartingGate.RunAsync(
                Owners,
                owner => ClaimAsync(instances[owner], migration, $"owner-{owner}", now, maxItems: 15).AsTask()
            );

            string[] leased = [.. claimed.SelectMany(IdsOf)];
            Assert.Empty(
                leased.CountBy(id => id).Where(c => c.Value > 1).Select(c => $"{c.Key} leased {c.Value} times")
            );
            Assert.Equal(ItemsPerRound, leased.Length);
            Assert.All(claimed, c => Assert.InRange(c.Count, 0, 15));
            for (int owner = 0; owner < Owners; owner++)
            {
                Assert.All(claimed[owner], i => Assert.Equal($"owner-{owner}", i.LeaseOwner));
                await instances[owner].CompleteAsync([.. claimed[owner]]);
            }
        }

        Assert.Empty(await ClaimAsync(outbox, migration, "after", At(10_000)));
    }
}
