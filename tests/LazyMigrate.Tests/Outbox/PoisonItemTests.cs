using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// A poison item (a reverse mapper that throws for one entity) backs off and is dead-lettered with its error after
/// <see cref="OutboxOptions.MaxAttempts"/>, while every other item flows (invariant 11; MassTransit #6216).
/// </summary>
public sealed class PoisonItemTests
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AReverseMapperThrowingForOneId_BacksOffAndIsDeadLettered_WhileEveryOtherItemFlows()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var mapper = new PoisonReverseMapper(shared.Time);
        mapper.Poison(0);
        await using var harness = Create(
            shared,
            outbox,
            o =>
            {
                o.MaxAttempts = 3;
                o.RetryDelay = RetryDelay;
                o.BatchSize = 2;
            },
            b => b.UseReverseMapper(mapper)
        );
        string poison = MigrationHarness.Id(0);
        for (int n = 0; n < 4; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), Revision(n, 1));
        }

        // The first drain applies every other item, in batches of two beside the poison one, and does not loop on it.
        await harness.DrainAsync();
        for (int n = 1; n < 4; n++)
        {
            Assert.Equal(RevisionInOldStore(n, 1), shared.Old.Peek(MigrationHarness.Id(n)));
        }

        Assert.Single(mapper.CallsFor(0));
        OutboxItem backingOff = Assert.Single(outbox.Snapshot());
        Assert.Equal((poison, 1, false), (backingOff.EntityId, backingOff.Attempts, backingOff.IsDeadLettered));
        Assert.Contains(PoisonReverseMapper.Message, backingOff.LastError, StringComparison.Ordinal);

        // Writes made while it backs off flow in later drains, before it is due again.
        for (int attempt = 2; attempt <= 3; attempt++)
        {
            int n = 2 + attempt;
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), Revision(n, 1));
            await harness.DrainAsync();
            Assert.Equal(RevisionInOldStore(n, 1), shared.Old.Peek(MigrationHarness.Id(n)));
            Assert.Equal(attempt - 1, mapper.CallsFor(0).Count);

            shared.Time.SetUtcNow(Assert.Single(outbox.Snapshot()).NextAttemptAt);
            await harness.DrainAsync();
            Assert.Equal(attempt, mapper.CallsFor(0).Count);
        }

        OutboxItem dead = Assert.Single(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Equal((poison, 3, true), (dead.EntityId, dead.Attempts, dead.IsDeadLettered));
        Assert.Contains(PoisonReverseMapper.Message, dead.LastError, StringComparison.Ordinal);
        Assert.Null(shared.Old.Peek(poison));

        // Dead, it is claimed no more, and the others still flow.
        shared.Time.Advance(TimeSpan.FromDays(1));
        await harness.Repository.SaveAsync(MigrationHarness.Id(9), Revision(9, 1));
        Assert.Equal(1, await harness.Dispatcher.DrainAsync());
        Assert.Equal(3, mapper.CallsFor(0).Count);
        Assert.Equal(RevisionInOldStore(9, 1), shared.Old.Peek(MigrationHarness.Id(9)));
    }
}
