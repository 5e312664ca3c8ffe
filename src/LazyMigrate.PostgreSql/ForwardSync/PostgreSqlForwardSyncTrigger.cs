using System.Text;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The capture of old-API writes on PostgreSQL, without touching legacy code: a trigger on the legacy table that
/// records the id of every row inserted, updated or deleted as a forward sync item in LazyMigrate's outbox, inside the
/// legacy write's own transaction (<see cref="LazyMigrationOptions.ForwardSync"/>). Writes LazyMigrate makes itself
/// (write-backs through the PostgreSQL old stores) mark their transaction, and the trigger skips them.
/// </summary>
/// <remarks>
/// The DDL is a script for teams whose DBAs run DDL (<see cref="CreateScript"/>), and the call that runs it
/// (<see cref="CreateAsync"/>). Installing it needs the right to create a function in the legacy table's schema and a
/// trigger on the table; the legacy application's role then needs <c>INSERT</c> and <c>UPDATE</c> on the outbox and
/// <c>USAGE</c> on its sequence, since the trigger runs as the writer. With
/// <see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/> the trigger also marks the new store's row stale, so
/// that the next read through the new API syncs it at once: the role then needs <c>UPDATE</c> on that table too, and
/// the table must exist (with its <c>stale</c> column) before the script runs.
/// </remarks>
public static class PostgreSqlForwardSyncTrigger
{
    /// <summary>Gets the idempotent script that creates (or replaces) the trigger and its function.</summary>
    /// <param name="options">Where the trigger goes and what it records.</param>
    /// <returns>SQL that can run any number of times.</returns>
    /// <exception cref="ArgumentException">A name is invalid, or the migration name is empty or too long.</exception>
    public static string CreateScript(PostgreSqlForwardSyncTriggerOptions options)
    {
        var target = TriggerTarget.Of(options);
        var script = new StringBuilder();
        script
            .Append("-- LazyMigrate forward sync: every row written to ")
            .Append(target.Legacy.Qualified)
            .Append(" through the old API is recorded in ")
            .Append(target.Outbox.Qualified)
            .Append(", in the write's transaction")
            .Append(target.NewStore is null ? "" : ", and marked stale in " + target.NewStore.Qualified)
            .Append(".\n");
        if (target.NewStore is not null)
        {
            // A function's body is resolved when it runs: without this, a missing table would fail legacy writes.
            script
                .Append("-- The new store's table must be there, with its stale column (fails here otherwise).\n")
                .Append("SELECT stale FROM ")
                .Append(target.NewStore.Qualified)
                .Append(" WHERE false;\n");
        }

        script
            .Append("CREATE OR REPLACE FUNCTION ")
            .Append(target.Function)
            .Append("() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$")
            .Append(FunctionBody(target))
            .Append("$lazymigrate$;\n")
            .Append("DROP TRIGGER IF EXISTS ")
            .Append(target.Trigger)
            .Append(" ON ")
            .Append(target.Legacy.Qualified)
            .Append(";\nCREATE TRIGGER ")
            .Append(target.Trigger)
            .Append(" AFTER INSERT OR UPDATE OR DELETE ON ")
            .Append(target.Legacy.Qualified)
            .Append("\n    FOR EACH ROW EXECUTE FUNCTION ")
            .Append(target.Function)
            .Append('(')
            .Append(target.MigrationLiteral)
            .Append(");\n")
            .Append(OrderScript(target));
        return script.ToString();
    }

    /// <summary>
    /// The body of the capture trigger's function, between its dollar quotes: what <c>pg_proc.prosrc</c> holds once
    /// the script ran, which tells <see cref="CreateAsync"/> whether the function is up to date.
    /// </summary>
    private static string FunctionBody(TriggerTarget target)
    {
        var o = new OutboxStatements(target.Outbox);
        string forwardSync = ((int)OutboxItemKind.ForwardSync).ToString(
            System.Globalization.CultureInfo.InvariantCulture
        );
        string Record(string row) =>
            $"        {o.InsertInto}\n"
            + $"        VALUES (TG_ARGV[0], {forwardSync}, {row}.{target.Key}::text, 1, NULL, clock_timestamp(), 0, "
            + "clock_timestamp(), false)\n"
            + $"        {o.RecordConflict};\n"
            + (
                target.NewStore is null
                    ? ""
                    : $"        UPDATE {target.NewStore.Qualified} SET stale = true "
                        + $"WHERE id = {row}.{target.Key}::text AND NOT stale;\n"
            );
        var body = new StringBuilder();
        body.Append("\nBEGIN\n")
            .Append(
                "    -- A write-back by LazyMigrate marks its transaction: it is not a write through the old API.\n"
            )
            .Append("    IF current_setting('")
            .Append(WriteBackMark.Setting)
            .Append("', true) = 'on' THEN\n        RETURN NULL;\n    END IF;\n")
            .Append("    -- The database's clock, the one time the outbox reads it: a trigger has no other.\n");
        if (target.NewStore is not null)
        {
            body.Append(
                "    -- The new store's row, if it holds the id, is marked stale: its next read syncs it first.\n"
            );
        }

        return body.Append("    IF TG_OP IN ('UPDATE', 'DELETE') THEN\n")
            .Append(Record("OLD"))
            .Append("    END IF;\n")
            .Append("    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.")
            .Append(target.Key)
            .Append(" IS DISTINCT FROM OLD.")
            .Append(target.Key)
            .Append(") THEN\n")
            .Append(Record("NEW"))
            .Append("    END IF;\n    RETURN NULL;\nEND\n")
            .ToString();
    }

    /// <summary>
    /// The trigger that keeps a write-back from overwriting a later old-API write: a write-back carries the new store's
    /// state as of its intent, and a forward sync item recorded after that intent (a greater sequence) means the row
    /// holds a newer write, which must win. It runs before each row of a marked transaction is written, once the row
    /// is locked (a legacy write still in flight has committed its item by then), and skips the row; the forward sync
    /// then brings the new store up to the row.
    /// </summary>
    private static string OrderScript(TriggerTarget target)
    {
        string t = target.Outbox.Qualified;
        int forwardSync = (int)OutboxItemKind.ForwardSync;
        int writeBack = (int)OutboxItemKind.WriteBack;
        return $$"""
            CREATE OR REPLACE FUNCTION {{target.OrderFunction}}() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
            DECLARE
                entity text;
            BEGIN
                IF current_setting('{{WriteBackMark.Setting}}', true) IS DISTINCT FROM 'on' THEN
                    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
                END IF;
                entity := CASE WHEN TG_OP = 'DELETE' THEN OLD.{{target.Key}} ELSE NEW.{{target.Key}} END::text;
                IF EXISTS (SELECT FROM {{t}} AS f WHERE f.migration = TG_ARGV[0] AND f.kind = {{forwardSync}}
                    AND f.entity_id = entity AND f.sequence > coalesce((SELECT w.sequence FROM {{t}} AS w
                        WHERE w.migration = TG_ARGV[0] AND w.kind = {{writeBack}} AND w.entity_id = entity), 0)) THEN
                    RETURN NULL;
                END IF;
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END
            $lazymigrate$;
            DROP TRIGGER IF EXISTS {{target.OrderTrigger}} ON {{target.Legacy.Qualified}};
            CREATE TRIGGER {{target.OrderTrigger}} BEFORE INSERT OR UPDATE OR DELETE ON {{target.Legacy.Qualified}}
                FOR EACH ROW EXECUTE FUNCTION {{target.OrderFunction}}({{target.MigrationLiteral}});

            """;
    }

    /// <summary>
    /// Creates the trigger if the legacy table does not have it, or replaces its function when the options changed
    /// (<see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/> set on a trigger created without it): one query
    /// when it is up to date (no DDL privilege needed then), otherwise the script in a transaction, serialized across
    /// instances by an advisory lock.
    /// </summary>
    /// <param name="dataSource">The data source of the database of the legacy table and the outbox.</param>
    /// <param name="options">Where the trigger goes and what it records.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call created the trigger (or replaced its function).</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlForwardSyncTriggerOptions options,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        string script = CreateScript(options);
        var target = TriggerTarget.Of(options);
        return await PostgreSqlDocumentStoreSchema
            .CreateUnlessAsync(
                dataSource,
                (connection, ct) => ExistsAsync(connection, target, options.TriggerName, FunctionBody(target), ct),
                script,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    private static async ValueTask<bool> ExistsAsync(
        NpgsqlConnection connection,
        TriggerTarget target,
        string triggerName,
        string functionBody,
        CancellationToken cancellationToken
    )
    {
        // The trigger, calling a function whose body is this version's, for these options.
        var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
                + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                + "JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid "
                + "WHERE n.nspname = $1 AND c.relname = $2 AND t.tgname = $3 AND p.prosrc = $4)",
            connection
        );
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = target.Legacy.Schema });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = target.Legacy.Table });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = triggerName });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = functionBody });
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }
}
