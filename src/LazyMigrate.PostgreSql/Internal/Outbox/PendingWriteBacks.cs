using System.Globalization;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The write-backs of one migration that its <c>Async</c> saves and deletes record in the entity's own row of the new
/// store's table (<c>writeback_pending</c>, <c>writeback_pending_since</c>) instead of in an outbox row: one row
/// written a save, not two. The outbox takes each over as a write-back item before it claims, finds or counts that
/// migration's items, so every reader of the outbox sees them as items.
/// </summary>
/// <remarks>
/// <para>
/// A take-over locks the marked rows, clears their marks and records the items in one statement, so a mark is never
/// both cleared and lost: a save that comes after marks the row again, and its write-back becomes a new version of the
/// item. The item's sequence is the mark's, taken from the outbox's sequence when the save ran, so it orders beside
/// forward sync items by when the write happened, not when the outbox took it over.
/// </para>
/// <para>
/// The claim's take-over skips rows another transaction holds (a save in flight commits its mark for the next one);
/// a lookup's waits for them, since a dispatcher asks under the entities' locks whether a write-back is pending, and a
/// mark a concurrent take-over is moving must be seen as the item it becomes.
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
        string marked =
            $"SELECT id, writeback_pending AS sequence, writeback_pending_since AS since FROM {t} "
            + "WHERE writeback_pending IS NOT NULL";
        string takeOver =
            $"cleared AS (UPDATE {t} AS s SET writeback_pending = NULL, writeback_pending_since = NULL FROM marked "
            + "WHERE s.id = marked.id RETURNING marked.id, marked.sequence, marked.since) "
            + $"INSERT INTO {o} AS o (migration, kind, entity_id, version, payload, recorded_at, attempts, "
            + "next_attempt_at, dead_lettered, sequence) "
            + $"SELECT $1, {WriteBack}, c.id, 1, NULL, c.since, 0, c.since, false, c.sequence FROM cleared AS c "
            + outbox.RecordConflictWith("greatest(o.sequence, EXCLUDED.sequence)");

        // $1 migration, $2 most rows: the oldest marks first, over the table's partial index.
        TakeOverDue =
            $"WITH marked AS ({marked} ORDER BY writeback_pending LIMIT $2 FOR UPDATE SKIP LOCKED), {takeOver}";

        // $1 migration, $2 ids; locked in id order, so two lookups of overlapping ids cannot deadlock.
        TakeOverSome = $"WITH marked AS ({marked} AND id = ANY($2) ORDER BY id FOR UPDATE), {takeOver}";

        // $1 migration: the marks of entities with no pending write-back item yet (one with an item is counted there).
        Statistics =
            $"SELECT count(*), min(writeback_pending_since) FROM {t} AS s WHERE writeback_pending IS NOT NULL "
            + $"AND NOT EXISTS (SELECT FROM {o} AS o WHERE o.migration = $1 AND o.kind = {WriteBack} "
            + "AND o.entity_id = s.id AND NOT o.dead_lettered)";
    }

    /// <summary>Gets the take-over of up to $2 marks, the oldest first, for migration $1.</summary>
    public string TakeOverDue { get; }

    /// <summary>Gets the take-over of the marks of the ids $2, for migration $1.</summary>
    public string TakeOverSome { get; }

    /// <summary>Gets the count and the oldest time of the marks that are not items yet, for migration $1.</summary>
    public string Statistics { get; }

    /// <summary>Completes when the new store's table is there: a dispatcher may reach it before any save.</summary>
    public ValueTask EnsureTableAsync(CancellationToken cancellationToken) => _ensureTable(cancellationToken);

    public NpgsqlBatchCommand TakeOverDueCommand(string migration, int maxRows) =>
        new(TakeOverDue) { Parameters = { OutboxRows.Text(migration), OutboxRows.Int(maxRows) } };

    public NpgsqlBatchCommand TakeOverSomeCommand(string migration, IReadOnlyCollection<string> ids) =>
        new(TakeOverSome) { Parameters = { OutboxRows.Text(migration), OutboxRows.TextArray(ids) } };
}
