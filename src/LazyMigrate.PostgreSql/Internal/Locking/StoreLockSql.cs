using System.Globalization;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of the migration locks a new store takes itself (<see cref="ILockingNewStore{TNew}"/>): transaction-scoped
/// advisory locks, taken with the re-read in one batch and released by the insert's <c>COMMIT</c> (or a
/// <c>ROLLBACK</c>).
/// </summary>
/// <remarks>
/// <para>An id's key is <c>hashtextextended('lazymigrate:"schema"."table":' || id, 0)</c>: the same hash as the session
/// advisory lock (<see cref="AdvisoryLockSql"/>), in the same 64-bit advisory-lock space. Both kinds would exclude each
/// other on an equal key string, but the strings differ: the session lock's key names the migration
/// (<see cref="MigrationLockKeys.For"/>), which a store does not know, so the two kinds never exclude each
/// other.</para>
/// <para>Two keys sharing a hash only serialize two unrelated ids, which is harmless. The keys are locked in the order
/// of their hash value, deduplicated, so two batches that overlap always lock in the same order and never deadlock each
/// other.</para>
/// </remarks>
internal static class StoreLockSql
{
    /// <summary>
    /// Read committed whatever the database's default: the re-read must take its snapshot after the locks are granted,
    /// to see what the previous holder committed.
    /// </summary>
    public const string Begin = "BEGIN ISOLATION LEVEL READ COMMITTED";

    /// <summary>
    /// Waits for every lock, each up to <c>lock_timeout</c> (55P03 <c>lock_not_available</c> past it), all of them up
    /// to <c>statement_timeout</c> (57014 <c>query_canceled</c>). $1: the key prefix, $2: the ids.
    /// </summary>
    public const string Lock =
        "SELECT count(pg_advisory_xact_lock(k)) FROM "
        + "(SELECT DISTINCT hashtextextended($1 || u.id, 0) AS k FROM unnest($2::text[]) AS u(id) ORDER BY k) AS keys";

    /// <summary>
    /// Tries every lock once, without waiting, in key order; true when all were granted. $1: the key prefix, $2: the
    /// ids.
    /// </summary>
    public const string TryLockKeys =
        "SELECT bool_and(pg_try_advisory_xact_lock(k)) FROM "
        + "(SELECT DISTINCT hashtextextended($1 || u.id, 0) AS k FROM unnest($2::text[]) AS u(id) ORDER BY k) AS keys";

    public const string Commit = "COMMIT";

    public const string Rollback = "ROLLBACK";

    /// <summary>
    /// Ends a bound of the wait once the locks are held: the reads and the insert that follow in the transaction run
    /// under the database's own setting (<c>LOCAL</c> either way: nothing outlives the transaction).
    /// </summary>
    public const string ResetLockTimeout = "SET LOCAL lock_timeout TO DEFAULT";

    /// <inheritdoc cref="ResetLockTimeout"/>
    public const string ResetStatementTimeout = "SET LOCAL statement_timeout TO DEFAULT";

    /// <summary>
    /// The longest <c>lock_timeout</c> or <c>statement_timeout</c> PostgreSQL accepts, in milliseconds.
    /// </summary>
    private const long MaxTimeoutMilliseconds = int.MaxValue;

    /// <summary>
    /// Sets how long each lock waits, for this transaction only. <c>SET</c> takes no parameter; the value is an integer
    /// this class formats (<see cref="Milliseconds"/>).
    /// </summary>
    public static string SetLockTimeout(TimeSpan timeout) => "SET LOCAL lock_timeout = " + Milliseconds(timeout);

    /// <summary>
    /// Sets how long the next statements may run, for this transaction only: PostgreSQL (13 and later) times each
    /// statement of a batch on its own, so the wait for all the locks, which <c>lock_timeout</c> bounds only lock by
    /// lock, ends at the timeout with 57014 <c>query_canceled</c>.
    /// </summary>
    public static string SetStatementTimeout(TimeSpan timeout) =>
        "SET LOCAL statement_timeout = " + Milliseconds(timeout);

    /// <summary>
    /// A timeout as PostgreSQL reads it: <see cref="Timeout.InfiniteTimeSpan"/> is 0, its "no limit"; any other timeout
    /// is rounded up to whole milliseconds and at least 1 ms, since 0 would wait forever.
    /// </summary>
    private static string Milliseconds(TimeSpan timeout)
    {
        long milliseconds =
            timeout == Timeout.InfiniteTimeSpan
                ? 0
                : Math.Clamp((long)Math.Ceiling(timeout.TotalMilliseconds), 1, MaxTimeoutMilliseconds);
        return milliseconds.ToString(CultureInfo.InvariantCulture);
    }
}
