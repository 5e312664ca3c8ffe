using System.Globalization;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The write-backs of one migration that its <c>Async</c> saves and deletes record in the entity's own row of the new
/// store's table (<c>writeback_pending</c>, <c>writeback_pending_since</c>) instead of in an outbox row. A claim makes
/// items of them; a lookup and the statistics read them beside the items, in the same statement, so every reader of
/// the outbox sees each one, as an item or as the mark it still is, and never neither.
/// </summary>
/// <remarks>
/// <para>
/// A claim's take-over locks marked rows (skipping rows other transactions hold: a save in flight, a legacy write
/// marking the row stale), clears their marks and records their items in one statement, so a mark is never both
/// cleared and lost; a save that comes after marks the row again. It takes only marks whose entity has no live
/// write-back item: one a dispatcher may be applying, or may be about to complete, whose lock it would otherwise wait
/// for. Such a mark becomes the next item once that one is completed, and a dispatcher that applied the earlier state
/// applies the newer one then. The item's sequence is the mark's, taken from the outbox's sequence when the save held
/// the row, so it orders beside forward sync items by when the save ran, not when the outbox took it over.
/// </para>
/// <para>
/// A lookup takes no lock: it reports a marked entity's write-back as pending, with the greater of the item's and the
/// mark's sequence, so that ordering a forward sync against it never waits for a row a legacy write holds.
/// </para>
/// </remarks>
internal sealed class PendingWriteBacks
{
    private static readonly string WriteBack = ((int)OutboxItemKind.WriteBack).ToString(CultureInfo.InvariantCulture);

    private readonly Func<CancellationToken, ValueTask> _ensureTable;

    /// <param name="table">The new store's table.</param>
    /// <param name="ensureTable">Completes when the table is there, with its columns (the store's schema gate).</param>
    /// <param name="outbox">The outbox's statements.</param>
    public PendingWriteBacks(
        DocumentTableName table,
        Func<CancellationToken, ValueTask> ensureTable,
        OutboxStatements outbox
    )
    {
        _ensureTable = ensureTable;
        string t = table.Qualified;
        string o = outbox.Table.Qualified;
        string noLiveItem =
            $"NOT EXISTS (SELECT FROM {o} AS i WHERE i.migration = $1 AND i.kind = {WriteBack} "
            + "AND i.entity_id = s.id AND NOT i.dead_lettered)";

        // $1 migration, $2 most rows: the oldest marks first, over the table's partial index; the items are written in
        // id order, so two statements that lock several items never take them in opposite orders.
        TakeOverDue =
            "WITH marked AS (SELECT s.id, s.writeback_pending AS sequence, s.writeback_pending_since AS since "
            + $"FROM {t} AS s WHERE s.writeback_pending IS NOT NULL AND {noLiveItem} "
            + "ORDER BY s.writeback_pending LIMIT $2 FOR UPDATE OF s SKIP LOCKED), "
            + $"cleared AS (UPDATE {t} AS s SET writeback_pending = NULL, writeback_pending_since = NULL FROM marked "
            + "WHERE s.id = marked.id RETURNING marked.id, marked.sequence, marked.since) "
            + outbox.InsertWithSequenceInto
            + $"SELECT $1, {WriteBack}, c.id, 1, NULL, c.since, 0, c.since, false, c.sequence FROM cleared AS c "
            + "ORDER BY c.id "
            + outbox.RecordConflictWith("greatest(o.sequence, EXCLUDED.sequence)");

        // $1 migration, $2 ids: the items, then each mark as a write-back item of version 0 (no row has it), in one
        // snapshot.
        Find =
            $"{outbox.Find} UNION ALL SELECT $1, {WriteBack}::smallint, s.id, 0::bigint, NULL::jsonb, "
            + "s.writeback_pending_since, 0, s.writeback_pending_since, NULL::text, false, NULL::text, "
            + $"NULL::timestamptz, s.writeback_pending FROM {t} AS s "
            + "WHERE s.id = ANY($2) AND s.writeback_pending IS NOT NULL";

        // $1 migration: the items by kind, then the marks whose entity has no live item (one with an item is counted
        // there), in one snapshot.
        Statistics =
            $"{outbox.Statistics} UNION ALL SELECT {WriteBack}::smallint, false, count(*), "
            + $"min(s.writeback_pending_since) FROM {t} AS s WHERE s.writeback_pending IS NOT NULL AND {noLiveItem} "
            + "HAVING count(*) > 0";
    }

    /// <summary>Gets the take-over of up to $2 marks with no live item, the oldest first, for migration $1.</summary>
    public string TakeOverDue { get; }

    /// <summary>Gets the items of the ids $2 of migration $1, and their marks as items of version 0.</summary>
    public string Find { get; }

    /// <summary>Gets the statistics of migration $1's items, with its marks as pending write-backs.</summary>
    public string Statistics { get; }

    /// <summary>Completes when the new store's table is there: a dispatcher may reach it before any save.</summary>
    public ValueTask EnsureTableAsync(CancellationToken cancellationToken) => _ensureTable(cancellationToken);

    public NpgsqlBatchCommand TakeOverDueCommand(string migration, int maxRows) =>
        new(TakeOverDue) { Parameters = { OutboxRows.Text(migration), OutboxRows.Int(maxRows) } };
}
