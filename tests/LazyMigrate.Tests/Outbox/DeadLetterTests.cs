using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Dead letters through <see cref="IMigrationDispatcher{TOld, TNew}"/>: listed with their errors, replayed (all, or
/// by id) and then applied, purged only on purpose, never dropped (invariant 11).
/// </summary>
public sealed class DeadLetterTests
{
    private readonly SharedStores _shared = new();
    private readonly InMemoryOutbox _outbox = new();
    private readonly PoisonReverseMapper _mapper;

    public DeadLetterTests() => _mapper = new PoisonReverseMapper(_shared.Time);

    /// <summary>
    /// An instance whose writes of <paramref name="customers"/> were dead-lettered at their first attempt.
    /// </summary>
    private async Task<MigrationHarness> DeadLetteredAsync(params int[] customers)
    {
        _mapper.Poison(customers);
        var harness = Create(_shared, _outbox, o => o.MaxAttempts = 1, b => b.UseReverseMapper(_mapper));
        foreach (int n in customers)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), Revision(n, 1));
        }

        await harness.DrainAsync();
        return harness;
    }

    private static string[] IdsOf(IEnumerable<OutboxItem> items) => [.. items.Select(i => i.EntityId).Order()];

    [Fact]
    public async Task DeadLetters_AreListedWithTheirErrors_AndStayThroughLaterDrainsForDays()
    {
        await using MigrationHarness harness = await DeadLetteredAsync(0, 1, 2);

        for (int day = 0; day < 3; day++)
        {
            _shared.Time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(0, await harness.Dispatcher.DrainAsync());
        }

        IReadOnlyList<OutboxItem> dead = await harness.Dispatcher.GetDeadLettersAsync();
        Assert.Equal([MigrationHarness.Id(0), MigrationHarness.Id(1), MigrationHarness.Id(2)], IdsOf(dead));
        Assert.All(
            dead,
            d =>
            {
                Assert.True(d.IsDeadLettered);
                Assert.Equal(1, d.Attempts);
                Assert.Contains(PoisonReverseMapper.Message, d.LastError, StringComparison.Ordinal);
            }
        );
        Assert.Equal(2, (await harness.Dispatcher.GetDeadLettersAsync(limit: 2)).Count);
        Assert.Equal(3, (await harness.Dispatcher.GetStatisticsAsync()).DeadLettered[OutboxItemKind.WriteBack]);
    }

    [Fact]
    public async Task ReplayById_MakesThatDeadLetterDueAgain_AndTheNextDrainAppliesIt_TheOthersStayDead()
    {
        await using MigrationHarness harness = await DeadLetteredAsync(0, 1, 2);
        _mapper.Poisoned.Clear();

        Assert.Equal(1, await harness.Dispatcher.ReplayDeadLettersAsync([MigrationHarness.Id(1)]));
        Assert.Equal(1, await harness.Dispatcher.DrainAsync());

        Assert.Equal(RevisionInOldStore(1, 1), _shared.Old.Peek(MigrationHarness.Id(1)));
        Assert.Null(_shared.Old.Peek(MigrationHarness.Id(0)));
        Assert.Equal(
            [MigrationHarness.Id(0), MigrationHarness.Id(2)],
            IdsOf(await harness.Dispatcher.GetDeadLettersAsync())
        );
    }

    [Fact]
    public async Task ReplayAll_AppliesEveryDeadLetter_AndTheOutboxEmpties()
    {
        await using MigrationHarness harness = await DeadLetteredAsync(0, 1, 2);
        _mapper.Poisoned.Clear();

        Assert.Equal(3, await harness.Dispatcher.ReplayDeadLettersAsync());
        Assert.Equal(3, await harness.Dispatcher.DrainAsync());

        for (int n = 0; n < 3; n++)
        {
            Assert.Equal(RevisionInOldStore(n, 1), _shared.Old.Peek(MigrationHarness.Id(n)));
        }

        Assert.Empty(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Empty(_outbox.Snapshot());
    }

    [Fact]
    public async Task AReplayThatFailsAgain_IsDeadLetteredAgain_NotDropped()
    {
        await using MigrationHarness harness = await DeadLetteredAsync(0);

        Assert.Equal(1, await harness.Dispatcher.ReplayDeadLettersAsync());
        await harness.DrainAsync();

        OutboxItem dead = Assert.Single(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Equal(MigrationHarness.Id(0), dead.EntityId);
        Assert.Equal(2, _mapper.CallsFor(0).Count);
    }

    [Fact]
    public async Task Purge_DeletesOnlyTheDeadLettersAskedFor_AndLeavesPendingItems()
    {
        await using MigrationHarness harness = await DeadLetteredAsync(0, 1, 2);
        await harness.Repository.SaveAsync(MigrationHarness.Id(7), Revision(7, 1));

        Assert.Equal(1, await harness.Dispatcher.PurgeDeadLettersAsync([MigrationHarness.Id(0)]));
        Assert.Equal(
            [MigrationHarness.Id(1), MigrationHarness.Id(2)],
            IdsOf(await harness.Dispatcher.GetDeadLettersAsync())
        );
        Assert.Equal(0, await harness.Dispatcher.PurgeDeadLettersAsync([MigrationHarness.Id(7)]));

        Assert.Equal(2, await harness.Dispatcher.PurgeDeadLettersAsync());
        Assert.Empty(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Equal([MigrationHarness.Id(7)], IdsOf(_outbox.Snapshot()));
    }
}
