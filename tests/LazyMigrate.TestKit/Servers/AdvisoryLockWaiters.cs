using Npgsql;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// Waits, within a bound, until PostgreSQL itself shows a caller waiting for an advisory lock, so that a test acts
/// (cancels, releases) while the caller really waits and not before it started. Polls the server's views every
/// <see cref="Eventually.PollInterval"/>, never in a tight loop.
/// </summary>
public static class AdvisoryLockWaiters
{
    private const string NotGranted =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 "
        + "AND ((classid::bigint << 32) | objid::bigint) = ";

    private const string BetweenTries =
        "SELECT count(*) FROM pg_stat_activity AS a "
        + "WHERE a.application_name = ANY($1) AND a.state = 'idle' AND a.query = ANY($2) "
        + "AND NOT EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)";

    /// <summary>
    /// Returns once a session waits on the server (<c>pg_advisory_lock</c>, <c>pg_advisory_xact_lock</c>) for the
    /// advisory lock of <paramref name="key"/>, mapped as <c>hashtextextended(key, 0)</c>.
    /// </summary>
    /// <param name="observer">A data source of the same database, to query <c>pg_locks</c> with.</param>
    /// <param name="key">The lock's key.</param>
    /// <param name="within">The bound; <see cref="Eventually.DefaultBound"/> when null.</param>
    public static Task UntilWaitedForAsync(NpgsqlDataSource observer, string key, TimeSpan? within = null) =>
        UntilPositiveAsync(
            observer,
            NotGranted + "hashtextextended($1, 0)",
            key,
            within,
            $"A session waiting in pg_locks for the advisory lock of '{key}'"
        );

    /// <summary>
    /// Returns once a session waits on the server for the 64-bit advisory lock <paramref name="lockId"/>.
    /// </summary>
    /// <param name="observer">A data source of the same database, to query <c>pg_locks</c> with.</param>
    /// <param name="lockId">The advisory lock's 64-bit id.</param>
    /// <param name="within">The bound; <see cref="Eventually.DefaultBound"/> when null.</param>
    public static Task UntilWaitedForAsync(NpgsqlDataSource observer, long lockId, TimeSpan? within = null) =>
        UntilPositiveAsync(
            observer,
            NotGranted + "$1",
            lockId,
            within,
            $"A session waiting in pg_locks for the advisory lock {lockId}"
        );

    /// <summary>
    /// Returns once a caller that polls with <c>pg_try_advisory_lock</c> (it never waits on the server) is between two
    /// tries: a session of one of <paramref name="applicationNames"/>, idle after one of
    /// <paramref name="tryStatements"/>, holding no advisory lock. Give each instance's data source its own
    /// application name, and ask for the waiter's: a connection it used before and gave back to its pool would look
    /// the same.
    /// </summary>
    /// <param name="observer">A data source of the same server, to query <c>pg_stat_activity</c> with.</param>
    /// <param name="applicationNames">The application names of the sessions that may be the waiter.</param>
    /// <param name="tryStatements">The statements of a try, as sent (a partly granted batch ends with its release).
    /// </param>
    /// <param name="within">The bound; <see cref="Eventually.DefaultBound"/> when null.</param>
    public static Task UntilBetweenTriesAsync(
        NpgsqlDataSource observer,
        IReadOnlyCollection<string> applicationNames,
        IReadOnlyCollection<string> tryStatements,
        TimeSpan? within = null
    ) =>
        Eventually.TrueAsync(
            async () =>
            {
                await using NpgsqlCommand command = observer.CreateCommand(BetweenTries);
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. applicationNames] });
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. tryStatements] });
                return (long)(await command.ExecuteScalarAsync())! > 0;
            },
            within,
            $"A session of {string.Join(", ", applicationNames)} between two tries of an advisory lock"
        );

    private static Task UntilPositiveAsync(
        NpgsqlDataSource observer,
        string countSql,
        object key,
        TimeSpan? within,
        string what
    ) =>
        Eventually.TrueAsync(
            async () =>
            {
                await using NpgsqlCommand command = observer.CreateCommand(countSql);
                command.Parameters.Add(new NpgsqlParameter { Value = key });
                return (long)(await command.ExecuteScalarAsync())! > 0;
            },
            within,
            what
        );
}
