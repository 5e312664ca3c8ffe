using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Backoff is stored with each item (its next attempt time), so an item is not claimed before it is due, whoever
/// claims, and N dispatchers do not retry it N times as often (CAP #1797).
/// </summary>
public sealed class BackoffTests
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);
    private static readonly string Id = MigrationHarness.Id(0);

    private static void Options(OutboxOptions o)
    {
        o.RetryDelay = RetryDelay;
        o.MaxRetryDelay = MaxRetryDelay;
        o.MaxAttempts = 20;
    }

    /// <summary>The shortest and longest delay the schedule allows after <paramref name="attempt"/> failed.</summary>
    private static (TimeSpan Shortest, TimeSpan Longest) Bounds(int attempt)
    {
        TimeSpan exponential = RetryDelay * Math.Pow(2, attempt - 1);
        TimeSpan Capped(double factor) => exponential * factor < MaxRetryDelay ? exponential * factor : MaxRetryDelay;
        return (Capped(0.8), Capped(1.2));
    }

    [Fact]
    public async Task AFailingItem_StoresItsNextAttempt_GrowingExponentiallyWithinJitter_AndIsNotClaimedBefore()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var mapper = new PoisonReverseMapper(shared.Time);
        mapper.Poison(0);
        await using var harness = Create(shared, outbox, Options, b => b.UseReverseMapper(mapper));
        await harness.Repository.SaveAsync(Id, Revision(0, 1));

        for (int attempt = 1; attempt <= 7; attempt++)
        {
            DateTimeOffset failedAt = shared.Time.GetUtcNow();
            Assert.Equal(1, await harness.Dispatcher.RunOnceAsync());

            OutboxItem item = WriteBackOf(outbox, Id)!;
            Assert.Equal(attempt, item.Attempts);
            TimeSpan delay = item.NextAttemptAt - failedAt;
            (TimeSpan shortest, TimeSpan longest) = Bounds(attempt);
            Assert.True(
                delay >= shortest && delay <= longest,
                $"after attempt {attempt}: next attempt in {delay}, expected {shortest} to {longest}"
            );

            // Not yet due: no dispatcher claims it.
            shared.Time.SetUtcNow(item.NextAttemptAt - TimeSpan.FromMilliseconds(1));
            Assert.Equal(0, await harness.Dispatcher.RunOnceAsync());
            shared.Time.SetUtcNow(item.NextAttemptAt);
        }

        Assert.Equal(7, mapper.CallsFor(0).Count);
    }

    [Fact]
    public async Task TwoDispatchersOnOneOutbox_DrainingEverySecond_RetryAnItemNoMoreOftenThanOne()
    {
        var shared = new SharedStores();
        var outbox = new InMemoryOutbox();
        var mapper = new PoisonReverseMapper(shared.Time);
        mapper.Poison(0);
        await using var first = Create(shared, outbox, Options, b => b.UseReverseMapper(mapper));
        await using var second = Create(shared, outbox, Options, b => b.UseReverseMapper(mapper));
        await first.Repository.SaveAsync(Id, Revision(0, 1));

        for (int tick = 0; tick < 600; tick++)
        {
            await Task.WhenAll(first.Dispatcher.DrainAsync().AsTask(), second.Dispatcher.DrainAsync().AsTask());
            shared.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // One dispatcher's schedule: 10, 20, 40, 80, 160, 320 s (capped at 5 min), each within +-20%: 6 or 7
        // attempts in 10 minutes. Each attempt is one mapper call, whichever dispatcher made it.
        IReadOnlyList<DateTimeOffset> calls = mapper.CallsFor(0);
        Assert.Equal(WriteBackOf(outbox, Id)!.Attempts, calls.Count);
        Assert.InRange(calls.Count, 6, 7);
        for (int attempt = 1; attempt < calls.Count; attempt++)
        {
            TimeSpan gap = calls[attempt] - calls[attempt - 1];
            Assert.True(
                gap >= Bounds(attempt).Shortest,
                $"attempt {attempt + 1} came {gap} after attempt {attempt}, sooner than {Bounds(attempt).Shortest}"
            );
        }
    }
}
