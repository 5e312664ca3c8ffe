namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The statements a new store's lock reads with, for one new table and, when it reads one along, one old table. Each
/// returns one row per locked id: <c>granted</c>, <c>id</c>, what the new table holds (<c>deleted</c> and
/// <c>payload</c>, both null when it holds nothing) and, with an old table, its live payload (<c>old_payload</c>) only
/// for an id the new table lacks. Names are validated and quoted; values are parameters.
/// </summary>
/// <remarks>
/// <para>The reads are always a statement of their own, after the statement that takes the locks. Under read committed
/// a statement's snapshot is taken when it starts: reads in the statement that takes the locks would see the table as
/// it was a moment before them, and miss what a holder committed and released in that moment, so two migrations would
/// each read the old row and map it.</para>
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

        // One id is a scalar parameter, not a one-element array: PostgreSQL plans a prepared statement for 100 rows of
        // an unnest, so a join over one would be planned afresh on every call.
        TryLockOne = "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || $2::text, 0))";
        ReadLockedOne = $"SELECT true AS granted, {columns} FROM (SELECT $1::text AS id) AS u {joins}";
        ReadLocked = $"SELECT true AS granted, {columns} FROM unnest($1::text[]) AS u(id) {joins}";
    }

    /// <summary>Gets the statement that tries the lock of one id, once: true when granted. $1: the key prefix, $2: the
    /// id.</summary>
    public string TryLockOne { get; }

    /// <summary>Gets the statement that tries the locks of several ids once, in key order: true when all were granted.
    /// $1: the key prefix, $2: the ids.</summary>
    public string TryLockMany => StoreLockSql.TryLockKeys;

    /// <summary>Gets the statement that reads one id already locked by an earlier statement. $1: the id.</summary>
    public string ReadLockedOne { get; }

    /// <summary>Gets the statement that reads ids already locked by an earlier statement. $1: the ids.</summary>
    public string ReadLocked { get; }
}
