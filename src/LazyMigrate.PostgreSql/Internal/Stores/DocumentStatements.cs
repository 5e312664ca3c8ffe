namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of one document table, built once per store. Names are checked and quoted; every value is a positional
/// parameter (<c>$1</c>, <c>$2</c>). Ids compare in the "C" collation, the ordinal order the keyset scan needs.
/// </summary>
/// <remarks>
/// A new store's table has a <c>stale</c> column, which the forward sync capture trigger sets
/// (<see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/>): its reads return it, and every write of a row
/// clears it. An old store's table is read and written without it, so that a table an earlier version created works
/// as it is.
/// </remarks>
internal sealed class DocumentStatements
{
    /// <summary>The quoted, schema-qualified table.</summary>
    private readonly string _table;

    /// <param name="table">The table.</param>
    /// <param name="staleColumn">Whether the statements read and clear the <c>stale</c> column: a new store's.</param>
    public DocumentStatements(DocumentTableName table, bool staleColumn)
    {
        string t = table.Qualified;
        string columns = staleColumn ? "id, payload, deleted, stale, updated_at" : "id, payload, deleted, updated_at";
        string live = staleColumn ? "false, false, now()" : "false, now()";
        string dead = staleColumn ? "true, false, now()" : "true, now()";
        string clear = staleColumn ? ", stale = false" : string.Empty;

        // What the new store holds for ids, tombstones included, and whether the old API wrote them since.
        Find = $"SELECT deleted, payload, {(staleColumn ? "stale" : "false")} FROM {t} WHERE id = $1";
        FindMany = $"SELECT id, deleted, payload, {(staleColumn ? "stale" : "false")} FROM {t} WHERE id = ANY($1)";

        // What the old store holds: a tombstone (the table was a new store before) counts as absent.
        FindLive = $"SELECT payload FROM {t} WHERE id = $1 AND NOT deleted";
        FindManyLive = $"SELECT id, payload FROM {t} WHERE id = ANY($1) AND NOT deleted";
        ScanFirst = $"SELECT id, payload FROM {t} WHERE NOT deleted ORDER BY id COLLATE \"C\" LIMIT $1";
        ScanAfter =
            $"SELECT id, payload FROM {t} WHERE id > $1 COLLATE \"C\" AND NOT deleted "
            + "ORDER BY id COLLATE \"C\" LIMIT $2";

        // The scan's own conditions, so that a count after a cursor is what the scan from it will yield.
        CountLive = $"SELECT count(*) FROM {t} WHERE NOT deleted";
        CountLiveAfter = $"SELECT count(*) FROM {t} WHERE id > $1 COLLATE \"C\" AND NOT deleted";

        // Insert-if-absent: a value and a tombstone are both conflicts, so neither is ever overwritten.
        InsertIfAbsent = $"INSERT INTO {t} ({columns}) VALUES ($1, $2, {live}) " + "ON CONFLICT (id) DO NOTHING";
        InsertIfAbsentReturningId = InsertIfAbsent + " RETURNING id";
        InsertManyIfAbsent =
            $"INSERT INTO {t} ({columns}) "
            + $"SELECT u.id, u.payload, {live} FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "ON CONFLICT (id) DO NOTHING RETURNING id";

        // The same batch as a plain insert of the rows absent when the statement starts: cheaper for the server than
        // ON CONFLICT's speculative insertion, and a row another transaction inserts meanwhile fails it with a
        // unique violation instead of being overwritten, after which InsertManyIfAbsent runs. The rows present are
        // found by one capped index range scan between the batch's bounds ($3, $4; at most $5 rows), which costs far
        // less than a probe a row; past the cap (or with $5 = 0) each row is probed (see PresentRangeProbe). It returns
        // (null, whether the range scan was complete), then after a complete scan (id, true) for each id the range
        // holds, the batch's others being those inserted (far fewer rows to send than the ids inserted), and after an
        // incomplete one (id, false) for each id inserted.
        InsertManyAbsent =
            $"WITH present AS (SELECT p.id FROM {t} AS p WHERE p.id >= $3 COLLATE \"C\" AND p.id <= $4 COLLATE \"C\" "
            + "ORDER BY p.id COLLATE \"C\" LIMIT $5), "
            + "probe AS (SELECT count(*) < $5 AS complete FROM present), "
            + $"inserted AS (INSERT INTO {t} ({columns}) "
            + $"SELECT u.id, u.payload, {live} FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "WHERE CASE WHEN (SELECT complete FROM probe) THEN u.id NOT IN (SELECT id FROM present) "
            + $"ELSE NOT EXISTS (SELECT FROM {t} AS x WHERE x.id = u.id) END RETURNING id) "
            + "SELECT NULL::text AS id, complete FROM probe "
            + "UNION ALL SELECT id, true FROM present WHERE (SELECT complete FROM probe) "
            + "UNION ALL SELECT id, false FROM inserted WHERE NOT (SELECT complete FROM probe)";

        Upsert =
            $"INSERT INTO {t} ({columns}) VALUES ($1, $2, {live}) "
            + "ON CONFLICT (id) DO UPDATE "
            + $"SET payload = EXCLUDED.payload, deleted = false{clear}, updated_at = EXCLUDED.updated_at";
        Tombstone =
            $"INSERT INTO {t} ({columns}) VALUES ($1, NULL, {dead}) "
            + $"ON CONFLICT (id) DO UPDATE SET payload = NULL, deleted = true{clear}, updated_at = EXCLUDED.updated_at";
        Delete = $"DELETE FROM {t} WHERE id = $1";

        // The write-backs of one dispatched batch (distinct ids: ON CONFLICT cannot touch a row twice).
        UpsertMany =
            $"INSERT INTO {t} ({columns}) "
            + $"SELECT u.id, u.payload, {live} FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "ON CONFLICT (id) DO UPDATE "
            + $"SET payload = EXCLUDED.payload, deleted = false{clear}, updated_at = EXCLUDED.updated_at";
        DeleteMany = $"DELETE FROM {t} WHERE id = ANY($1)";

        // The migration locks a new store takes itself (UseNewStoreLock); see StoreLockSql.
        LockKeyPrefix = $"lazymigrate:{t}:";
        _table = t;
    }

    /// <summary>
    /// Gets <see cref="Upsert"/> that also records a pending write-back in the row (a new store's): $1 id, $2 payload,
    /// $3 the write's time; the mark takes the next value of <paramref name="sequence"/>, which it returns.
    /// </summary>
    /// <param name="sequence">The quoted name of the outbox's sequence: a mark orders beside its items.</param>
    public string UpsertMarkingWriteBack(string sequence) =>
        MarkingWriteBack(sequence, "$2, false", "$3", "payload = EXCLUDED.payload, deleted = false");

    /// <summary>As <see cref="UpsertMarkingWriteBack"/> with the tombstone: $1 id, $2 the write's time.</summary>
    /// <param name="sequence">The quoted name of the outbox's sequence.</param>
    public string TombstoneMarkingWriteBack(string sequence) =>
        MarkingWriteBack(sequence, "NULL, true", "$2", "payload = NULL, deleted = true");

    /// <summary>
    /// A write of a row that keeps its pending write-back's first time and gives it the write's sequence: the latest
    /// write is the one the write-back must reach. An update takes its sequence once it holds the row, so two writes
    /// of one row take theirs in the order they write it (the value <c>VALUES</c> took is then unused).
    /// </summary>
    private string MarkingWriteBack(string sequence, string values, string since, string set) =>
        $"INSERT INTO {_table} AS s (id, payload, deleted, stale, updated_at, writeback_pending, "
        + $"writeback_pending_since) VALUES ($1, {values}, false, now(), nextval('{sequence}'), {since}) "
        + $"ON CONFLICT (id) DO UPDATE SET {set}, stale = false, updated_at = EXCLUDED.updated_at, "
        + $"writeback_pending = nextval('{sequence}'), "
        + "writeback_pending_since = coalesce(s.writeback_pending_since, EXCLUDED.writeback_pending_since) "
        + "RETURNING writeback_pending";

    /// <summary>
    /// Gets what a migration-lock key starts with: the key of an id is <c>lazymigrate:"schema"."table":{id}</c>, so
    /// that the same id in two tables has two locks (see <see cref="StoreLockSql"/>).
    /// </summary>
    public string LockKeyPrefix { get; }

    public string Find { get; }

    public string FindMany { get; }

    public string FindLive { get; }

    public string FindManyLive { get; }

    public string ScanFirst { get; }

    public string ScanAfter { get; }

    /// <summary>Gets the count of the live rows: what a scan from the start yields.</summary>
    public string CountLive { get; }

    /// <summary>Gets the count of the live rows after an id in "C" order: what a scan after it yields.</summary>
    public string CountLiveAfter { get; }

    public string InsertIfAbsent { get; }

    /// <summary>
    /// Gets <see cref="InsertIfAbsent"/> returning the id when it inserted, as <see cref="InsertManyIfAbsent"/> does.
    /// </summary>
    public string InsertIfAbsentReturningId { get; }

    public string InsertManyIfAbsent { get; }

    /// <summary>
    /// Gets <see cref="InsertManyIfAbsent"/> as a plain insert of the absent rows, which fails with a unique violation
    /// where a concurrent insert of one of the ids got there first. <c>$3</c> and <c>$4</c> bound the range scanned for
    /// present rows, <c>$5</c> caps it (0: probe each row); it returns <c>(null, complete)</c>, then the present ids
    /// after a complete scan or the inserted ids after an incomplete one (see <see cref="PresentRangeProbe"/>).
    /// </summary>
    public string InsertManyAbsent { get; }

    public string Upsert { get; }

    public string Tombstone { get; }

    public string Delete { get; }

    public string UpsertMany { get; }

    public string DeleteMany { get; }
}
