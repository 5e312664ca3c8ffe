namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of the advisory lock. A key maps to one 64-bit advisory lock id with <c>hashtextextended(key, 0)</c>
/// (PostgreSQL 11 and later), so any string works as a key; two keys sharing a hash only wait on each other.
/// </summary>
internal static class AdvisoryLockSql
{
    public const string TryLock = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";

    public const string Unlock = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

    /// <summary>Tries every key once, without waiting; returns the keys granted. $1: the keys.</summary>
    /// <remarks>A try never waits, so the order of the tries cannot deadlock two sessions; a partial grant is
    /// released.</remarks>
    public const string TryLockMany =
        "SELECT k FROM unnest($1::text[]) AS u(k) WHERE pg_try_advisory_lock(hashtextextended(k, 0))";

    /// <summary>
    /// Releases every key (each row runs, an aggregate does not stop early); true when the session held them all. $1:
    /// the keys.
    /// </summary>
    public const string UnlockMany =
        "SELECT bool_and(pg_advisory_unlock(hashtextextended(k, 0))) FROM unnest($1::text[]) AS u(k)";

    public const string KeepAlive = "SELECT 1";

    /// <summary>
    /// Finds the backend holding a key's lock in this database: for operators and tests (<c>pg_terminate_backend</c>).
    /// </summary>
    public const string Holder =
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        + "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)";
}
