using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The write-backs that the forward sync trigger's order check fails (<see cref="WriteBackMark.SupersededState"/>):
/// an old-API write to the row came after the write-back's intent, so the row must stay as the old API wrote it. The
/// check runs after the row is written (a <c>BEFORE</c> trigger, which could skip the row instead, would lock every
/// row the legacy application updates), so it can only roll the write back; the old store then throws
/// <see cref="WriteBackSupersededException"/>, which LazyMigrate completes as superseded (a batch: it writes each
/// entity alone, so that only the refused ones are left out).
/// </summary>
internal static class SupersededWriteBacks
{
    /// <summary>Whether <paramref name="exception"/> is the order check's refusal.</summary>
    public static bool Is(Exception exception) =>
        exception is PostgresException { SqlState: WriteBackMark.SupersededState };

    /// <summary>
    /// Runs the write-back of one entity; when the order check refuses it, logs that and throws
    /// <see cref="WriteBackSupersededException"/>, the row unchanged.
    /// </summary>
    public static ValueTask RunAsync(ValueTask write, ILogger logger, string id, string table) =>
        RunAsync(write, id, 1, table, logger);

    /// <summary>
    /// Runs the write-back of several entities in one statement; when the order check refuses one of them, which rolls
    /// back the whole statement, throws <see cref="WriteBackSupersededException"/> for the batch, none of it written.
    /// </summary>
    public static ValueTask RunManyAsync(ValueTask write, string firstId, int count, string table) =>
        RunAsync(write, firstId, count, table, logger: null);

    /// <summary>The write of <paramref name="count"/> entities, <paramref name="firstId"/> first, its refusal typed.
    /// </summary>
    private static async ValueTask RunAsync(ValueTask write, string firstId, int count, string table, ILogger? logger)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (PostgresException e) when (Is(e))
        {
            // A batch's refusal names no entity: each is written again alone, and those refused then are logged.
            if (logger is not null)
            {
                PostgreSqlLog.WriteBackSuperseded(logger, firstId, table);
            }

            throw new WriteBackSupersededException(
                firstId,
                $"The forward sync trigger on {table} refused it (SQLSTATE {WriteBackMark.SupersededState}).",
                e,
                count
            );
        }
    }
}
