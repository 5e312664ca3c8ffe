using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Records intents inside the caller's context and transaction, by the rules of <see
/// cref="IMigrationOutbox.RecordAsync"/>: an item that exists is updated in place at once (a write-back coalesces, an
/// event changes nothing); a new one is added to the context, so that the caller's next <c>SaveChanges</c> inserts it
/// with the entity it writes.
/// </summary>
/// <remarks>
/// In a new store's write, the id's entry row is taken first, so the writes of one id (and so their items) follow one
/// another. An item inserted meanwhile by a standalone <see cref="IMigrationOutbox.RecordAsync"/> (another instance
/// recording the same migration without this store) fails the write on the outbox's primary key: the save fails with
/// a store error naming the id, and nothing is written; a retry of the save then coalesces into that item.
/// </remarks>
internal static class OutboxRecords
{
    public static IQueryable<LazyMigrateOutboxItem> Of(DbContext context, string migration, OutboxItemKind kind) =>
        context.Set<LazyMigrateOutboxItem>().Where(i => i.Migration == migration && i.Kind == kind);

    public static IQueryable<LazyMigrateOutboxItem> Of(
        DbContext context,
        string migration,
        OutboxItemKind kind,
        string entityId
    ) => Of(context, migration, kind).Where(i => i.EntityId == entityId);

    /// <summary>Records one intent; returns the item's version after the caller's transaction commits.</summary>
    public static Task<long> StageAsync(DbContext context, OutboxIntent intent, CancellationToken cancellationToken) =>
        StageAsync(context, intent, new OutboxSequence(context), cancellationToken);

    /// <summary>Records one intent, its sequence the next of <paramref name="sequence"/> (an event that exists keeps
    /// its own).</summary>
    private static async Task<long> StageAsync(
        DbContext context,
        OutboxIntent intent,
        OutboxSequence sequence,
        CancellationToken cancellationToken
    )
    {
        IQueryable<LazyMigrateOutboxItem> item = Of(context, intent.Migration, intent.Kind, intent.EntityId);
        long? next = null;
        if (intent.Kind == OutboxItemKind.EntityMigrated)
        {
            // An entity migrates once: an event that exists keeps its payload and state.
            long? existing = await item.Select(i => (long?)i.Version)
                .FirstOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
            if (existing is { } version)
            {
                return version;
            }
        }
        else
        {
            // One statement, on the row's latest state: the version moves on, the sequence too, a dead letter revives
            // due at this write's time with no attempts, the rest (first recorded time, attempts, backoff, lease)
            // stays. A sequence read for an item that turns out missing goes to its insert.
            long recordedAt = OutboxRows.Micros(intent.RecordedAt);
            long coalesced = await sequence.NextAsync(cancellationToken).ConfigureAwait(false);
            next = coalesced;
            int updated = await item.ExecuteUpdateAsync(
                    s =>
                        s.SetProperty(i => i.Version, i => i.Version + 1)
                            .SetProperty(i => i.Sequence, coalesced)
                            .SetProperty(i => i.Attempts, i => i.IsDeadLettered ? 0 : i.Attempts)
                            .SetProperty(
                                i => i.NextAttemptAtMicroseconds,
                                i => i.IsDeadLettered ? recordedAt : i.NextAttemptAtMicroseconds
                            )
                            .SetProperty(i => i.IsDeadLettered, false),
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (updated > 0)
            {
                // The update holds the row until the caller commits: the version read is this write's.
                return await item.Select(i => i.Version).FirstAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        context.Add(
            OutboxRows.NewRow(intent, next ?? await sequence.NextAsync(cancellationToken).ConfigureAwait(false))
        );
        return 1;
    }

    /// <summary>
    /// Records the intents of a batch (a migration's insert): the events in one query per migration and kind, which
    /// adds the ones missing; any other kind one by one.
    /// </summary>
    public static async Task StageManyAsync(
        DbContext context,
        IReadOnlyCollection<OutboxIntent> intents,
        CancellationToken cancellationToken
    )
    {
        // One sequence for the batch: rows added but not saved yet are not in the table's greatest value.
        var sequence = new OutboxSequence(context);
        foreach (var group in intents.GroupBy(i => (i.Migration, i.Kind)))
        {
            if (group.Key.Kind != OutboxItemKind.EntityMigrated)
            {
                foreach (OutboxIntent intent in group)
                {
                    await StageAsync(context, intent, sequence, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            string[] ids = [.. group.Select(i => i.EntityId)];
            var existing = new HashSet<string>(
                await Of(context, group.Key.Migration, group.Key.Kind)
                    .Where(i => ids.Contains(i.EntityId))
                    .Select(i => i.EntityId)
                    .ToListAsync(cancellationToken)
                    .ConfigureAwait(false),
                StringComparer.Ordinal
            );
            foreach (OutboxIntent intent in group.Where(i => !existing.Contains(i.EntityId)))
            {
                context.Add(
                    OutboxRows.NewRow(intent, await sequence.NextAsync(cancellationToken).ConfigureAwait(false))
                );
            }
        }
    }
}
