using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The command timeout of a statement that may wait for a lock up to a lock timeout of its own: the connection's
/// command timeout on top of the lock wait, so that Npgsql's timeout never cuts the wait short (0, no limit, for an
/// infinite wait or a connection without a command timeout, and for a sum past what Npgsql can count in milliseconds,
/// about 24 days).
/// </summary>
internal static class LockWaitCommandTimeout
{
    private const double MaxSeconds = int.MaxValue / 1000;

    /// <summary>The timeout, in seconds, for a command on <paramref name="connection"/>.</summary>
    public static int Of(NpgsqlConnection connection, TimeSpan lockTimeout)
    {
        if (lockTimeout == Timeout.InfiniteTimeSpan || connection.CommandTimeout == 0)
        {
            return 0;
        }

        double seconds = connection.CommandTimeout + Math.Ceiling(lockTimeout.TotalSeconds);
        return seconds > MaxSeconds ? 0 : (int)seconds;
    }
}
