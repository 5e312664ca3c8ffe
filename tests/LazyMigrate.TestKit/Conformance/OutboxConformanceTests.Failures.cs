using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>Failed attempts: rescheduled or dead-lettered by the lease holder only.</summary>
public abstract partial class OutboxConformanceTests
{
    [Fact]
    public async Task Reschedule_CountsTheAttempt_StoresTheError_AndReleasesUntilTheNextAttempt()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem claimed = await ClaimOneAsync(outbox, migration, "owner", At(0));

        await outbox.RescheduleAsync(claimed, At(10), "old store down");

        // Due again at the next attempt, though the first lease would still run until At(30).
        Assert.Empty(await ClaimAsync(outbox, migration, "other", JustBefore(At(10))));
        OutboxItem retried = await ClaimOneAsync(outbox, migration, "other", At(10));
        Assert.Equal(1, retried.Attempts);
        Assert.Equal("old store down", retried.LastError);
        Assert.Equal(At(10), retried.NextAttemptAt);
        Assert.Equal(1, retried.Version);
        Assert.False(retried.IsDeadLettered);
    }

    [Fact]
    public async Task Reschedule_Twice_CountsBothAttemptsAndKeepsTheLastError()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(0)), At(10), "first");

        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(10)), At(20), "second");

        OutboxItem retried = await ClaimOneAsync(outbox, migration, "owner", At(20));
        Assert.Equal(2, retried.Attempts);
        Assert.Equal("second", retried.LastError);
    }

    [Fact]
    public async Task Reschedule_ByAnOwnerWhoseLeasePassed_ChangesNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        var (late, taken) = await TakeOverAsync(outbox, migration);

        await outbox.RescheduleAsync(late, At(31), "too late");

        Assert.Empty(await ClaimAsync(outbox, migration, "third", At(31)));
        OutboxItem after = await ClaimOneAsync(outbox, migration, "third", taken.LeaseExpiresAt!.Value);
        Assert.Equal(0, after.Attempts);
        Assert.Null(after.LastError);
        Assert.Equal(At(0), after.NextAttemptAt);
    }

    [Fact]
    public async Task DeadLetter_HidesTheItemFromClaims_AndListsItWithItsErrorAndAttempts()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "a", At(0));
        await outbox.RescheduleAsync(await ClaimOneAsync(outbox, migration, "owner", At(0)), At(10), "first");

        await outbox.DeadLetterAsync(await ClaimOneAsync(outbox, migration, "owner", At(10)), "mapper throws");

        Assert.Empty(await ClaimAsync(outbox, migration, "owner", At(100_000)));
        OutboxItem dead = Assert.Single(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Equal("a", dead.EntityId);
        Assert.Equal(OutboxItemKind.WriteBack, dead.Kind);
        Assert.True(dead.IsDeadLettered);
        Assert.Equal("mapper throws", dead.LastError);
        Assert.Equal(2, dead.Attempts);
        Assert.Equal(1, dead.Version);
        Assert.Equal(At(0), dead.RecordedAt);
        Assert.Null(dead.LeaseOwner);
    }

    [Fact]
    public async Task DeadLetter_ByAnOwnerWhoseLeasePassed_ChangesNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        var (late, taken) = await TakeOverAsync(outbox, migration);

        await outbox.DeadLetterAsync(late, "too late");

        Assert.Empty(await outbox.ListDeadLettersAsync(migration, 10));
        OutboxItem after = await ClaimOneAsync(outbox, migration, "third", taken.LeaseExpiresAt!.Value);
        Assert.Equal(0, after.Attempts);
        Assert.Null(after.LastError);
    }

    [Fact]
    public async Task RescheduleAndDeadLetter_OfAnItemNoOneHolds_ChangeNothing()
    {
        var outbox = await CreateOutboxAsync();
        string migration = NewMigration();
        await RecordAsync(outbox, migration, "dead", At(0));
        await DeadLetterDueAsync(outbox, migration, At(0), "poison");
        await RecordAsync(outbox, migration, "pending", At(1));
        OutboxItem listed = Assert.Single(await outbox.ListDeadLettersAsync(migration, 10));
        OutboxItem unclaimed = new()
        {
            Migration = migration,
            Kind = OutboxItemKind.WriteBack,
            EntityId = "pending",
            Version = 1,
            RecordedAt = At(1),
            NextAttemptAt = At(1),
        };

        // Items as listed, not as claimed: they hold no lease, so they are no one's to settle.
        await outbox.RescheduleAsync(listed, At(2), "rescheduled");
        await outbox.DeadLetterAsync(unclaimed, "dead-lettered");

        OutboxItem stillDead = Assert.Single(await outbox.ListDeadLettersAsync(migration, 10));
        Assert.Equal("poison", stillDead.LastError);
        Assert.Equal(1, stillDead.Attempts);
        OutboxItem pending = await ClaimOneAsync(outbox, migration, "owner", At(2));
        Assert.Equal("pending", pending.EntityId);
        Assert.Equal(0, pending.Attempts);
    }
}
