using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The tables a forward sync trigger's script needs before it runs, and what to say when one is missing: the script
/// checks them first (a function's body is resolved only when it runs, so a trigger installed without them would fail
/// every legacy write instead), and PostgreSQL's own error names the relation but not what creates it.
/// </summary>
internal static class TriggerPrerequisites
{
    /// <summary>
    /// The failure to throw for <paramref name="exception"/>, raised by the script of <paramref name="target"/>: an
    /// <see cref="InvalidOperationException"/> that names the missing table and what creates it, or
    /// <see langword="null"/> when the exception is about something else.
    /// </summary>
    public static InvalidOperationException? Missing(TriggerTarget target, PostgresException exception)
    {
        string? missing = exception.SqlState switch
        {
            PostgresErrorCodes.UndefinedTable when Names(exception, target.Captures) =>
                $"the outbox's captures table {target.Captures.Qualified} does not exist. Create the outbox first, "
                    + $"in the same database: {nameof(PostgreSqlBuilderExtensions.UsePostgreSqlOutbox)} with "
                    + $"{nameof(PostgreSqlOutboxOptions.CreateSchema)} = true (once the host has started), or "
                    + $"{nameof(PostgreSqlOutboxSchema)}.{nameof(PostgreSqlOutboxSchema.CreateAsync)} or the script of "
                    + $"{nameof(PostgreSqlOutboxSchema)}.{nameof(PostgreSqlOutboxSchema.CreateScript)}; "
                    + $"{nameof(PostgreSqlForwardSyncTriggerOptions.OutboxSchema)} and "
                    + $"{nameof(PostgreSqlForwardSyncTriggerOptions.OutboxTable)} name that outbox's table",
            PostgresErrorCodes.UndefinedTable when target.NewStore is { } store && Names(exception, store) =>
                $"the new store's table {store.Qualified} "
                    + $"({nameof(PostgreSqlForwardSyncTriggerOptions.NewStoreTable)}) does not exist. "
                    + NewStoreSchema("Create it first, with its stale column"),
            PostgresErrorCodes.UndefinedColumn
                when target.NewStore is { } store
                    && exception.MessageText.StartsWith(
                        $"column \"{PostgreSqlDocumentStoreSchema.StaleColumn}\"",
                        StringComparison.Ordinal
                    ) => $"the new store's table {store.Qualified} "
                + $"({nameof(PostgreSqlForwardSyncTriggerOptions.NewStoreTable)}) has no "
                + $"{PostgreSqlDocumentStoreSchema.StaleColumn} column (an earlier version created it without). "
                + NewStoreSchema("Add it first"),
            _ => null,
        };
        return missing is null
            ? null
            : new InvalidOperationException(
                $"The forward sync trigger on {target.Legacy.Qualified} was not created: {missing}. Nothing was "
                    + "changed.",
                exception
            );
    }

    /// <summary>What creates a new store's table with its <c>stale</c> column: the new store's schema.</summary>
    private static string NewStoreSchema(string what) =>
        $"{what}, in the same database, with the new store's schema: "
        + $"{nameof(PostgreSqlBuilderExtensions.UsePostgreSqlNewStore)} with "
        + $"{nameof(PostgreSqlDocumentStoreOptions.CreateSchema)} = true (once the host has started), or "
        + $"{nameof(PostgreSqlDocumentStoreSchema)}.{nameof(PostgreSqlDocumentStoreSchema.CreateAsync)} or the script "
        + $"of {nameof(PostgreSqlDocumentStoreSchema)}.{nameof(PostgreSqlDocumentStoreSchema.CreateScript)}";

    /// <summary>
    /// Whether the error names <paramref name="table"/>: PostgreSQL writes the relation as the script spelled it, its
    /// parts unquoted (LazyMigrate's names need no quotes to read, being letters, digits and underscores).
    /// </summary>
    private static bool Names(PostgresException exception, DocumentTableName table) =>
        exception.MessageText.Contains($"\"{table.Schema}.{table.Table}\"", StringComparison.Ordinal);
}
