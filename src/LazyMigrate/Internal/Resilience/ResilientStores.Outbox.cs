using LazyMigrate.Outbox;
using Polly;

namespace LazyMigrate.Internal;

/// <summary>The outbox's calls, and the new store's writes that record an intent with their change.</summary>
internal sealed partial class ResilientStores<TOld, TNew>
{
    /// <summary>The id a failure of a call about no one entity names (a claim).</summary>
    private const string NoEntity = "(outbox)";

    /// <summary>Gets whether the new store records intents atomically with its changes.</summary>
    public bool RecordsWithChanges => _atomicStore is not null;

    public ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "record", intent.EntityId),
            static (s, ct) => s.Outbox.RecordAsync(s.Intent, ct),
            (Outbox: _outbox, Intent: intent),
            cancellationToken
        );

    public ValueTask<long> UpsertAndRecordNewAsync(
        string id,
        TNew entity,
        OutboxIntent intent,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "upsert", id),
            static (s, ct) => s.Store.UpsertAndRecordAsync(s.Id, s.Entity, s.Intent, ct),
            (Store: _atomicStore!, Id: id, Entity: entity, Intent: intent),
            cancellationToken
        );

    public ValueTask<long> DeleteAndRecordNewAsync(
        string id,
        OutboxIntent intent,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "delete", id),
            static (s, ct) => s.Store.DeleteAndRecordAsync(s.Id, s.Intent, ct),
            (Store: _atomicStore!, Id: id, Intent: intent),
            cancellationToken
        );

    public ValueTask<IReadOnlyCollection<string>> InsertManyAndRecordNewAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "insert_many", entities[0].Key, entities.Count),
            static (s, ct) => s.Store.InsertManyIfAbsentAndRecordAsync(s.Entities, s.Intents, ct),
            (Store: _atomicStore!, Entities: entities, Intents: intents),
            cancellationToken
        );

    /// <summary>
    /// Inserts, records and unlocks through a store-held lock, once, like <see cref="InsertManyAndUnlockAsync"/>.
    /// </summary>
    public ValueTask<IReadOnlyCollection<string>> InsertManyRecordAndUnlockAsync(
        IOutboxNewStoreLock<TNew> storeLock,
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "insert_many", entities[0].Key, entities.Count),
            static (s, ct) => s.Lock.InsertManyIfAbsentRecordAndReleaseAsync(s.Entities, s.Intents, ct),
            (Lock: storeLock, Entities: entities, Intents: intents),
            cancellationToken,
            ResiliencePipeline.Empty
        );

    public ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(OutboxClaim claim, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "claim", NoEntity),
            static (s, ct) => s.Outbox.ClaimAsync(s.Claim, ct),
            (Outbox: _outbox, Claim: claim),
            cancellationToken
        );

    public ValueTask<OutboxStatistics> OutboxStatisticsAsync(CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "statistics", NoEntity),
            static (s, ct) => s.Outbox.GetStatisticsAsync(s.Migration, ct),
            (Outbox: _outbox, Migration: migration),
            cancellationToken
        );

    public ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "list_dead_letters", NoEntity),
            static (s, ct) => s.Outbox.ListDeadLettersAsync(s.Migration, s.Limit, ct),
            (Outbox: _outbox, Migration: migration, Limit: limit),
            cancellationToken
        );

    /// <summary>Replays the dead letters of <paramref name="ids"/> (checked by the caller), or all of them.</summary>
    public ValueTask<int> ReplayDeadLettersAsync(
        IReadOnlyCollection<string>? ids,
        DateTimeOffset now,
        CancellationToken cancellationToken
    ) =>
        Run(
            DeadLettersSite("replay_dead_letters", ids),
            static (s, ct) => s.Outbox.ReplayDeadLettersAsync(s.Migration, s.Ids, s.Now, ct),
            (Outbox: _outbox, Migration: migration, Ids: ids, Now: now),
            cancellationToken
        );

    /// <summary>Purges the dead letters of <paramref name="ids"/> (checked by the caller), or all of them.</summary>
    public ValueTask<int> PurgeDeadLettersAsync(
        IReadOnlyCollection<string>? ids,
        CancellationToken cancellationToken
    ) =>
        Run(
            DeadLettersSite("purge_dead_letters", ids),
            static (s, ct) => s.Outbox.PurgeDeadLettersAsync(s.Migration, s.Ids, ct),
            (Outbox: _outbox, Migration: migration, Ids: ids),
            cancellationToken
        );

    private static Site DeadLettersSite(string operation, IReadOnlyCollection<string>? ids) =>
        ids is { Count: > 0 }
            ? Site.Of(MigrationRole.Outbox, operation, ids.First(), ids.Count)
            : Site.Of(MigrationRole.Outbox, operation, NoEntity);

    public ValueTask<IReadOnlyList<OutboxItem>> FindOutboxAsync(
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.Outbox, "find", ids[0], ids.Count),
            static (s, ct) => s.Outbox.FindAsync(s.Migration, s.Ids, ct),
            (Outbox: _outbox, Migration: migration, Ids: ids),
            cancellationToken
        );

    public ValueTask<int> CompleteAsync(IReadOnlyList<OutboxItem> items, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "complete", items[0].EntityId, items.Count),
            static (s, ct) => s.Outbox.CompleteAsync(s.Items, ct),
            (Outbox: _outbox, Items: items),
            cancellationToken
        );

    public ValueTask<bool> RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.Outbox, "reschedule", item.EntityId),
            static (s, ct) => Done(s.Outbox.RescheduleAsync(s.Item, s.Next, s.Error, ct)),
            (Outbox: _outbox, Item: item, Next: nextAttemptAt, Error: error),
            cancellationToken
        );

    public ValueTask<bool> DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.Outbox, "dead_letter", item.EntityId),
            static (s, ct) => Done(s.Outbox.DeadLetterAsync(s.Item, s.Error, ct)),
            (Outbox: _outbox, Item: item, Error: error),
            cancellationToken
        );
}
