using System.Text.Json.Nodes;
using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="IMigrationOutbox"/> must do (the rules in its remarks): one coalescing item per entity and
/// kind, claims that lease due items to one owner at a time, completion by version, failures settled only by the
/// lease holder, dead letters kept until replayed or purged, statistics, and migrations kept apart.
/// </summary>
/// <remarks>
/// The suite is one class over several files (<c>OutboxConformanceTests.*.cs</c>), one per family of rules. Every
/// test works in a migration of its own (<see cref="NewMigration"/>), so one database can serve all of them. Times are
/// the caller's, fixed and in whole milliseconds (PostgreSQL keeps microseconds), never the clock's: the outbox must
/// take every time from its parameters.
/// </remarks>
public abstract partial class OutboxConformanceTests
{
    /// <summary>The time every test starts from: the caller's clock, nowhere near the machine's.</summary>
    protected static readonly DateTimeOffset T0 = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The length of a claim's lease in the tests.</summary>
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Creates the outbox under test (it may hold other tests' migrations, never this test's).</summary>
    protected abstract Task<IMigrationOutbox> CreateOutboxAsync();

    /// <summary>
    /// Creates another instance's outbox over the same backend as <paramref name="outbox"/>, as another service would
    /// open it (another data source or context); the default returns the same outbox.
    /// </summary>
    protected virtual Task<IMigrationOutbox> AnotherInstanceAsync(IMigrationOutbox outbox) => Task.FromResult(outbox);

    /// <summary>A migration name no other test uses.</summary>
    protected static string NewMigration() => $"outbox-conformance-{Guid.NewGuid():N}";

    /// <summary>The caller's clock <paramref name="seconds"/> after <see cref="T0"/>.</summary>
    protected static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    /// <summary>The last millisecond before <paramref name="time"/>.</summary>
    protected static DateTimeOffset JustBefore(DateTimeOffset time) => time.AddMilliseconds(-1);

    protected static ValueTask<long> RecordAsync(
        IMigrationOutbox outbox,
        string migration,
        string id,
        DateTimeOffset at,
        OutboxItemKind kind = OutboxItemKind.WriteBack,
        string? payload = null
    ) => outbox.RecordAsync(new OutboxIntent(migration, kind, id, payload, at));

    protected static ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        IMigrationOutbox outbox,
        string migration,
        string owner,
        DateTimeOffset now,
        int maxItems = 1000
    ) => outbox.ClaimAsync(new OutboxClaim(migration, owner, maxItems, now, now + Lease));

    /// <summary>Claims and expects exactly one item.</summary>
    protected static async Task<OutboxItem> ClaimOneAsync(
        IMigrationOutbox outbox,
        string migration,
        string owner,
        DateTimeOffset now
    ) => Assert.Single(await ClaimAsync(outbox, migration, owner, now));

    /// <summary>
    /// Records a write-back of "a" at <see cref="T0"/> that <c>late</c> claims and, once that lease ended before
    /// <c>late</c> settled it, <c>taker</c> claims.
    /// </summary>
    /// <returns>The item as each owner claimed it.</returns>
    protected static async Task<(OutboxItem Late, OutboxItem Taken)> TakeOverAsync(
        IMigrationOutbox outbox,
        string migration
    )
    {
        await RecordAsync(outbox, migration, "a", At(0));
        OutboxItem late = await ClaimOneAsync(outbox, migration, "late", At(0));
        OutboxItem taken = await ClaimOneAsync(outbox, migration, "taker", At(0) + Lease);
        return (late, taken);
    }

    /// <summary>
    /// Claims every item of <paramref name="migration"/> due at <paramref name="now"/> and dead-letters each with
    /// <paramref name="error"/>, after one failed attempt.
    /// </summary>
    /// <returns>The items as claimed.</returns>
    protected static async Task<IReadOnlyList<OutboxItem>> DeadLetterDueAsync(
        IMigrationOutbox outbox,
        string migration,
        DateTimeOffset now,
        string error = "poison"
    )
    {
        IReadOnlyList<OutboxItem> claimed = await ClaimAsync(outbox, migration, "dead-letterer", now);
        foreach (OutboxItem item in claimed)
        {
            await outbox.DeadLetterAsync(item, error);
        }

        return claimed;
    }

    /// <summary>The entity ids of <paramref name="items"/>, in their order.</summary>
    protected static string[] IdsOf(IEnumerable<OutboxItem> items) => [.. items.Select(i => i.EntityId)];

    /// <summary>The entity ids of <paramref name="items"/>, sorted ordinally.</summary>
    protected static string[] SortedIdsOf(IEnumerable<OutboxItem> items) =>
        [.. items.Select(i => i.EntityId).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Asserts that two payloads are the same JSON value: a store may keep JSON in a normal form (PostgreSQL's jsonb
    /// spaces it and orders its keys), but never change a value.
    /// </summary>
    protected static void AssertSameJson(string expected, string? actual)
    {
        Assert.NotNull(actual);
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)),
            $"The payload came back as {actual}, not as {expected}."
        );
    }
}
