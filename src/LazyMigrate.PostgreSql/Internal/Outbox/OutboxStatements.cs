using System.Globalization;
using LazyMigrate.Outbox;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of one outbox table, built once per outbox. The name is checked and quoted; every value, times included, is
/// a positional parameter: the outbox never reads the database's clock.
/// </summary>
/// <remarks>
/// Every statement that returns items returns <see cref="Columns"/>, in that order (<see cref="OutboxRows"/> reads
/// them).
/// </remarks>
internal sealed class OutboxStatements
{
    /// <summary>The columns of an item, in the order <see cref="OutboxRows"/> reads them.</summary>
    public const string Columns =
        "migration, kind, entity_id, version, payload, recorded_at, attempts, next_attempt_at, last_error, "
        + "dead_lettered, lease_owner, lease_expires_at, sequence";

    private const string Key = "(migration, kind, entity_id)";

    /// <summary>The coalescing rule, with <c>{0}</c> for the sequence of the record coalesced.</summary>
    private readonly string _conflict;

    public OutboxStatements(DocumentTableName table)
    {
        Table = table;
        string o = table.Qualified;
        string events = ((int)OutboxItemKind.EntityMigrated).ToString(CultureInfo.InvariantCulture);

        // The rules of IMigrationOutbox.RecordAsync, for a row that exists: a write-back or a forward sync coalesces
        // (version + 1, a new sequence, a dead letter revives, due at the new write's time, with no attempts); an event
        // changes nothing (it migrated once). The first recorded_at, the payload and the lease stay. An insert takes
        // its sequence from the column's default.
        SequenceName = PostgreSqlOutboxSchema.SequenceName(table);
        string revive = $"o.dead_lettered AND o.kind <> {events}";
        _conflict =
            $"ON CONFLICT {Key} DO UPDATE SET "
            + $"version = o.version + CASE WHEN o.kind = {events} THEN 0 ELSE 1 END, "
            + $"sequence = CASE WHEN o.kind = {events} THEN o.sequence ELSE {{0}} END, "
            + $"attempts = CASE WHEN {revive} THEN 0 ELSE o.attempts END, "
            + $"next_attempt_at = CASE WHEN {revive} THEN EXCLUDED.recorded_at ELSE o.next_attempt_at END, "
            + $"dead_lettered = o.dead_lettered AND o.kind = {events}";
        RecordConflict = RecordConflictWith($"nextval('{SequenceName}')");
        const string Inserted =
            "migration, kind, entity_id, version, payload, recorded_at, attempts, next_attempt_at, dead_lettered";
        InsertInto = $"INSERT INTO {o} AS o ({Inserted}) ";
        InsertWithSequenceInto = $"INSERT INTO {o} AS o ({Inserted}, sequence) ";
        Record = RecordFrom(1, from: null);

        // The subquery leases rows it locks and skips rows another claim holds locked; under read committed, a row
        // whose lease another claim committed meanwhile is checked again on its latest version, and fails the lease
        // test.
        Claim =
            $"WITH claimed AS (UPDATE {o} AS o SET lease_owner = $2, lease_expires_at = $4 "
            + $"WHERE {Key} IN (SELECT d.migration, d.kind, d.entity_id FROM {o} AS d "
            + "WHERE d.migration = $1 AND NOT d.dead_lettered AND d.next_attempt_at <= $3 "
            + "AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $3) "
            + "ORDER BY d.next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED) "
            + $"RETURNING {Columns}) "
            + $"SELECT {Columns} FROM claimed ORDER BY next_attempt_at";

        // One statement for a batch: delete what is still at its claimed version, release what the claimer still
        // leases and was not deleted. The release reads the deletions (not the versions it saw): an item a write bumps
        // while the delete waits for it is released too, on its latest version.
        const string Match = "o.migration = c.migration AND o.kind = c.kind AND o.entity_id = c.entity_id";
        Complete =
            "WITH c AS (SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bigint[], $5::text[]) "
            + "AS c(migration, kind, entity_id, version, lease_owner)), "
            + $"deleted AS (DELETE FROM {o} AS o USING c WHERE {Match} AND o.version = c.version "
            + "AND o.lease_owner IS NOT DISTINCT FROM c.lease_owner "
            + "RETURNING o.migration, o.kind, o.entity_id), "
            + $"released AS (UPDATE {o} AS o SET lease_owner = NULL, lease_expires_at = NULL FROM c "
            + $"WHERE {Match} AND o.lease_owner = c.lease_owner "
            + "AND NOT EXISTS (SELECT FROM deleted AS d "
            + "WHERE d.migration = c.migration AND d.kind = c.kind AND d.entity_id = c.entity_id)) "
            + "SELECT count(*)::int FROM deleted";

        // Only the lease holder settles a failed attempt (an item no one holds is no one's). $1 to $4: the key and
        // the lease owner.
        const string Leased = "WHERE migration = $1 AND kind = $2 AND entity_id = $3 AND lease_owner = $4";
        Reschedule =
            $"UPDATE {o} SET attempts = attempts + 1, last_error = $5, next_attempt_at = $6, "
            + $"lease_owner = NULL, lease_expires_at = NULL {Leased}";
        // $6: the version claimed. A write since (the version moved on) is a new chance, as for a dead letter.
        DeadLetter =
            $"UPDATE {o} SET attempts = CASE WHEN version = $6 THEN attempts + 1 ELSE 0 END, last_error = $5, "
            + $"dead_lettered = (version = $6), lease_owner = NULL, lease_expires_at = NULL {Leased}";

        ListDeadLetters =
            $"SELECT {Columns} FROM {o} WHERE migration = $1 AND dead_lettered "
            + "ORDER BY recorded_at, entity_id LIMIT $2";
        const string Replay = "SET dead_lettered = false, attempts = 0, next_attempt_at = $2";
        ReplayAll = $"UPDATE {o} {Replay} WHERE migration = $1 AND dead_lettered";
        ReplaySome = $"UPDATE {o} {Replay} WHERE migration = $1 AND dead_lettered AND entity_id = ANY($3)";

        // Every kind named: the primary key (migration, kind, entity_id) then serves the lookup, a probe per kind and
        // id, where the migration alone would scan all its items.
        string kinds = string.Join(
            ", ",
            Enum.GetValues<OutboxItemKind>().Select(k => ((int)k).ToString(CultureInfo.InvariantCulture))
        );
        // The legacy writes a trigger captured are read beside the items (the lookup, the statistics) and folded into
        // items before a claim, in its transaction.
        Captures = new CapturedWrites(this);
        Find =
            $"SELECT {Columns} FROM {o} WHERE migration = $1 AND kind IN ({kinds}) AND entity_id = ANY($2)"
            + Captures.FindUnion;
        PurgeAll = $"DELETE FROM {o} WHERE migration = $1 AND dead_lettered";
        PurgeSome = $"DELETE FROM {o} WHERE migration = $1 AND dead_lettered AND entity_id = ANY($2)";
        Statistics =
            $"SELECT kind, dead_lettered, count(*), min(recorded_at) FROM {o} WHERE migration = $1 "
            + "GROUP BY kind, dead_lettered"
            + Captures.StatisticsUnion;
        // The captures table too: every claim folds it, every lookup reads it, with or without a trigger.
        CheckColumns =
            $"SELECT {Columns} FROM {o} WHERE false AND EXISTS (SELECT c.migration, c.entity_id, c.sequence, "
            + $"c.recorded_at FROM {Captures.Table.Qualified} AS c)";
    }

    public DocumentTableName Table { get; }

    /// <summary>
    /// Gets the quoted, schema-qualified name of the table's sequence, which orders every record of an item (and every
    /// capture of a legacy write, whose table takes its default from it): for SQL that records into the outbox outside
    /// these statements (a store's write), with <see cref="RecordConflict"/>.
    /// </summary>
    public string SequenceName { get; }

    /// <summary>Gets the start of every insert of an item: the table and the columns a new item sets.</summary>
    public string InsertInto { get; }

    /// <summary>
    /// Gets <see cref="InsertInto"/> with the <c>sequence</c> column last: for an item made of a record that took its
    /// sequence earlier (a write-back pending in its row, a captured legacy write).
    /// </summary>
    public string InsertWithSequenceInto { get; }

    /// <summary>Gets the statements of the legacy writes a forward sync trigger captured.</summary>
    public CapturedWrites Captures { get; }

    /// <summary>
    /// Gets the <c>ON CONFLICT</c> clause that coalesces an intent into the item that exists: the one place that states
    /// the rule, for every insert of an item (the outbox's, a store's, a fold of captures), given as
    /// <c>INSERT INTO table AS o</c> (<see cref="InsertInto"/>) with the new row's <c>recorded_at</c>.
    /// </summary>
    public string RecordConflict { get; }

    /// <summary>
    /// Gets <see cref="RecordConflict"/> with the coalesced record's sequence given as <paramref name="sequence"/>, an
    /// expression: a record that took its sequence earlier (a write-back pending in its entity's row) brings its own.
    /// </summary>
    public string RecordConflictWith(string sequence) =>
        string.Format(CultureInfo.InvariantCulture, _conflict, sequence);

    /// <summary>
    /// Gets <see cref="IMigrationOutbox.RecordAsync"/>: returns the version. $1 migration, $2 kind, $3 entity id, $4
    /// payload, $5 recorded at.
    /// </summary>
    public string Record { get; }

    /// <summary>$1 migration, $2 owner, $3 now, $4 lease until, $5 most items.</summary>
    public string Claim { get; }

    /// <summary>$1 to $5: arrays of migration, kind, entity id, version and lease owner; returns the deleted count.
    /// </summary>
    public string Complete { get; }

    /// <summary>$1 to $4: key and lease owner, $5 error, $6 next attempt.</summary>
    public string Reschedule { get; }

    /// <summary>$1 to $4: key and lease owner, $5 error.</summary>
    public string DeadLetter { get; }

    /// <summary>$1 migration, $2 limit.</summary>
    public string ListDeadLetters { get; }

    /// <summary>$1 migration, $2 now.</summary>
    public string ReplayAll { get; }

    /// <summary>$1 migration, $2 now, $3 entity ids.</summary>
    public string ReplaySome { get; }

    /// <summary>$1 migration, $2 entity ids: every item of those entities, of every kind and state, then each entity's
    /// captures as a forward sync item of version 0.</summary>
    public string Find { get; }

    /// <summary>$1 migration.</summary>
    public string PurgeAll { get; }

    /// <summary>$1 migration, $2 entity ids.</summary>
    public string PurgeSome { get; }

    /// <summary>$1 migration: a row per kind and dead-letter state, with its count and oldest recorded time, then the
    /// captured entities with no live item as pending forward syncs.</summary>
    public string Statistics { get; }

    /// <summary>Reads no row: the server only resolves the tables and every column the outbox uses.</summary>
    public string CheckColumns { get; }

    /// <summary>
    /// The insert of one intent whose parameters start at <paramref name="first"/> (migration, kind, entity id,
    /// payload, recorded at), returning the item's version; with <paramref name="from"/>, one row per row of that CTE
    /// (the store's write, so the intent is written only with it).
    /// </summary>
    public string RecordFrom(int first, string? from)
    {
        string P(int offset) => "$" + (first + offset).ToString(CultureInfo.InvariantCulture);
        return InsertInto
            + $"SELECT {P(0)}, {P(1)}, {P(2)}, 1, {P(3)}, {P(4)}, 0, {P(4)}, false"
            + (from is null ? " " : $" FROM {from} ")
            + RecordConflict
            + " RETURNING version";
    }
}
