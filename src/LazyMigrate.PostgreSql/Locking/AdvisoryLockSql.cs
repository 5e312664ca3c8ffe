namespace LazyMigrate.PostgreSql;

/// <summary>
/// The SQL of the advisory lock. A key maps to one 64-bit advisory lock id with <c>hashtextextended(key, 0)</c>
/// (PostgreSQL 11 and later), so any string works as a key; two keys sharing a hash only wait on each other.
/// </summary>
internal static class AdvisoryLockSql
{
    public const string TryLock = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";

    public const string Unlock = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

    public const string KeepAlive = "SELECT 1";

    /// <summary>Finds the backend holding a key's lock in this database: for operators and tests (<c>pg_terminate_backend</c>).</summary>
    public const string Holder =
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 " +
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
        "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)";
}
