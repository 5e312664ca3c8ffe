using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The mark of a write LazyMigrate makes to an old store (a write-back): a transaction-local setting, set first in the
/// write's own transaction, that the forward sync capture trigger reads so that it never records a write-back as a
/// write through the old API (an echo).
/// </summary>
internal static class WriteBackMark
{
    /// <summary>The setting's name, as the trigger reads it with <c>current_setting(name, true)</c>.</summary>
    public const string Setting = "lazymigrate.write_back";

    /// <summary>Sets the mark until the end of the transaction (<c>is_local</c>).</summary>
    public const string Sql = "SELECT set_config('" + Setting + "', 'on', true)";

    /// <summary>
    /// The SQLSTATE with which the forward sync trigger's order check fails a write-back that an old-API write to its
    /// row came after (<see cref="SupersededWriteBacks"/>): not one of PostgreSQL's classes.
    /// </summary>
    public const string SupersededState = "LM001";

    /// <summary>The mark as the first command of a write's batch, which runs in one transaction.</summary>
    public static NpgsqlBatchCommand Command() => new(Sql);
}
