namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The statements a new store's lock reads with, for one new table and, when it reads one along, one old table. Each
/// returns one row per locked id: with an old table first its columns (<see cref="ReadAlongSql.Columns"/>, all null
/// but for an id the new table lacks and the old table holds alive), then <c>granted</c>, <c>id</c> and what the new
/// table holds (<c>deleted</c>, <c>payload</c> and <c>stale</c>, all null when it holds nothing). Names are validated
/// and quoted; values are parameters.
/// </summary>
/// <remarks>
/// <para>The reads are always a statement of their own, after the statement that takes the locks. Under read committed
/// a statement's snapshot is taken when it starts: reads in the statement that takes the locks would see the table as
/// it was a moment before them, and miss what a holder committed and released in that moment, so two migrations would
/// each read the old row and map it.</para>
/// <para>The old table is read in the same statement as the new one, joined, not in a statement of its own: one
/// snapshot sees both, so an id whose new row lands between two statements (a save that takes no lock) is never seen
/// missing from the new table by one and skipped as present by the other, the old row lost to both.</para>
/// </remarks>
internal sealed class StoreLockStatements
{
    public StoreLockStatements(DocumentTableName newTable, ReadAlongSql? oldTable)
    {
        // The old table's columns come first, at the ordinals its reader expects (a table store's row mapping reads
        // from 0); its key, when not the id's text, rides along each id, converted by the old store, null when the id
        // cannot be one of its keys.
        string columns =
            (oldTable is null ? string.Empty : oldTable.Columns + ", ")
            + "true AS granted, u.id, n.deleted, n.payload, n.stale";
        string joins =
            $"LEFT JOIN {newTable.Qualified} AS n ON n.id = u.id"
            + (
                oldTable is null
                    ? string.Empty
                    : $" LEFT JOIN {oldTable.Table} AS o ON {oldTable.Match} AND n.id IS NULL"
            );
        string? keyType = oldTable?.KeyType;

        // One id is a scalar parameter, not a one-element array: PostgreSQL plans a prepared statement for 100 rows of
        // an unnest, so a join over one would be planned afresh on every call.
        TryLockOne = "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || $2::text, 0))";
        ReadLockedOne =
            $"SELECT {columns} FROM (SELECT $1::text AS id"
            + (keyType is null ? string.Empty : $", $2::{keyType} AS old_key")
            + $") AS u {joins}";
        ReadLocked =
            $"SELECT {columns} FROM unnest($1::text[]"
            + (keyType is null ? ") AS u(id)" : $", $2::{keyType}[]) AS u(id, old_key)")
            + $" {joins}";
    }

    /// <summary>Gets the statement that tries the lock of one id, once: true when granted. $1: the key prefix, $2: the
    /// id.</summary>
    public string TryLockOne { get; }

    /// <summary>Gets the statement that tries the locks of several ids once, in key order: true when all were granted.
    /// $1: the key prefix, $2: the ids.</summary>
    public string TryLockMany => StoreLockSql.TryLockKeys;

    /// <summary>Gets the statement that reads one id already locked by an earlier statement. $1: the id, $2: its old
    /// key, with an old <see cref="ReadAlongSql.KeyType"/>.</summary>
    public string ReadLockedOne { get; }

    /// <summary>Gets the statement that reads ids already locked by an earlier statement. $1: the ids, $2: their old
    /// keys, with an old <see cref="ReadAlongSql.KeyType"/>.</summary>
    public string ReadLocked { get; }
}
