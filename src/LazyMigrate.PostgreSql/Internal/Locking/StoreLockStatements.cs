namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The statements a new store's lock reads with, for one new table and, when it reads one along, one old table. Each
/// returns one row per locked id: <c>granted</c>, <c>id</c>, what the new table holds (<c>deleted</c> and
/// <c>payload</c>, both null when it holds nothing) and, with an old table, its live payload (<c>old_payload</c>) only
/// for an id the new table lacks. Names are validated and quoted; values are parameters.
/// </summary>
/// <remarks>
/// <para>The try statements take the locks and read in one statement. Its snapshot is taken when it starts, before
/// the locks, so a holder that committed and released in between goes unseen: the migration then reads the old row
/// once more and loses the insert-if-absent, which returns the committed row. No lock was waited for, so that window
/// is the statement's own microseconds; a wait for locks (<see cref="ReadLocked"/>) reads in a statement of its
/// own.</para>
/// </remarks>
internal sealed class StoreLockStatements
{
    public StoreLockStatements(DocumentTableName newTable, DocumentTableName? oldTable)
    {
        string columns =
            "u.id, n.deleted, n.payload" + (oldTable is null ? string.Empty : ", o.payload AS old_payload");
        string joins =
            $"LEFT JOIN {newTable.Qualified} AS n ON n.id = u.id"
            + (
                oldTable is null
                    ? string.Empty
                    : $" LEFT JOIN {oldTable.Qualified} AS o ON o.id = u.id AND NOT o.deleted AND n.id IS NULL"
            );

        // $1: the key prefix, $2: the id or the ids. One id is a scalar, not a one-element array: PostgreSQL plans a
        // prepared statement for 100 rows of an unnest, so a join over one would be planned afresh on every call.
        TryLockAndReadOne =
            $"SELECT pg_try_advisory_xact_lock(hashtextextended($1 || u.id, 0)) AS granted, {columns} "
            + $"FROM (SELECT $2::text AS id) AS u {joins}";
        TryLockAndReadMany =
            $"SELECT ({StoreLockSql.TryLockKeys}) AS granted, {columns} FROM unnest($2::text[]) AS u(id) {joins}";
        ReadLocked = $"SELECT true AS granted, {columns} FROM unnest($1::text[]) AS u(id) {joins}";
    }

    /// <summary>
    /// Gets the statement that tries the lock of one id and reads it. $1: the key prefix, $2: the id.
    /// </summary>
    public string TryLockAndReadOne { get; }

    /// <summary>
    /// Gets the statement that tries the locks of several ids in key order and reads them. $1: the key prefix, $2: the
    /// ids.
    /// </summary>
    public string TryLockAndReadMany { get; }

    /// <summary>Gets the statement that reads ids already locked by an earlier statement. $1: the ids.</summary>
    public string ReadLocked { get; }
}
