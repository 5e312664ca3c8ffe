using System.Globalization;
using LazyMigrate.Outbox;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The legacy writes a forward sync trigger captured (<see cref="PostgreSqlForwardSyncTrigger"/>) and no claim has
/// folded into items yet: rows of the outbox's captures table, appended by the legacy write's own transaction with
/// the outbox's sequence as it ran. A claim folds them into forward sync items; a lookup and the statistics read them
/// beside the items, in the same statement, so every reader of the outbox sees each one, as an item or as the
/// capture it still is, and never neither.
/// </summary>
/// <remarks>
/// The trigger appends and never coalesces, so that a legacy write pays for one plain insert, not for the outbox's
/// <c>ON CONFLICT</c> into an item with three indexes (see docs/benchmarks.md). A fold deletes the captures it takes
/// and records their items in one statement: a capture is never both gone and unrecorded. Each item takes the greatest
/// sequence of its captures, so it orders beside write-backs by when the legacy write ran, not when a claim folded it.
/// </remarks>
internal sealed class CapturedWrites
{
    private static readonly string ForwardSync = ((int)OutboxItemKind.ForwardSync).ToString(
        CultureInfo.InvariantCulture
    );

    /// <param name="outbox">The outbox's statements, but for those that read captures.</param>
    public CapturedWrites(OutboxStatements outbox)
    {
        Table = PostgreSqlOutboxSchema.CapturesOf(outbox.Table);
        string c = Table.Qualified;
        string o = outbox.Table.Qualified;

        // $1 migration, $2 most captures, in no order (a sort would read a whole backlog on every claim; each item
        // takes its captures' greatest sequence whichever fold takes them), skipping captures another fold holds; one
        // item per entity, written in id order so that two folds never lock items in opposite orders.
        Fold =
            $"WITH taken AS (DELETE FROM {c} AS c WHERE c.ctid = ANY (ARRAY(SELECT t.ctid FROM {c} AS t "
            + "WHERE t.migration = $1 LIMIT $2 FOR UPDATE SKIP LOCKED)) "
            + "RETURNING c.entity_id, c.sequence, c.recorded_at) "
            + outbox.InsertWithSequenceInto
            + $"SELECT $1, {ForwardSync}, t.entity_id, 1, NULL, min(t.recorded_at), 0, min(t.recorded_at), false, "
            + "max(t.sequence) FROM taken AS t GROUP BY t.entity_id ORDER BY t.entity_id "
            + outbox.RecordConflictWith("greatest(o.sequence, EXCLUDED.sequence)");

        // $1 migration, $2 ids: each captured entity as a forward sync item of version 0 (no row has it).
        FindUnion =
            $" UNION ALL SELECT $1, {ForwardSync}::smallint, c.entity_id, 0::bigint, NULL::jsonb, min(c.recorded_at), "
            + "0, min(c.recorded_at), NULL::text, false, NULL::text, NULL::timestamptz, max(c.sequence) "
            + $"FROM {c} AS c WHERE c.migration = $1 AND c.entity_id = ANY($2) GROUP BY c.entity_id";

        // $1 migration: the captured entities with no live item (one with an item is counted there).
        StatisticsUnion =
            $" UNION ALL SELECT {ForwardSync}::smallint, false, count(DISTINCT c.entity_id), min(c.recorded_at) "
            + $"FROM {c} AS c WHERE c.migration = $1 AND NOT EXISTS (SELECT FROM {o} AS i WHERE i.migration = $1 "
            + $"AND i.kind = {ForwardSync} AND i.entity_id = c.entity_id AND NOT i.dead_lettered) HAVING count(*) > 0";
    }

    /// <summary>Gets the captures table.</summary>
    public DocumentTableName Table { get; }

    /// <summary>Gets the fold of up to $2 captures of migration $1 into items.</summary>
    public string Fold { get; }

    /// <summary>Gets what a lookup of the ids $2 of migration $1 adds to the items: their captures.</summary>
    public string FindUnion { get; }

    /// <summary>Gets what the statistics of migration $1 add to the items' rows: the captured entities.</summary>
    public string StatisticsUnion { get; }
}
