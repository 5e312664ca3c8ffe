using System.Text;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The DDL of the backfill's checkpoint and quarantine tables, for teams whose DBAs run DDL, and the call that runs it
/// (<see cref="PostgreSqlBackfillCheckpointOptions.CreateSchema"/> runs the same script).
/// </summary>
public static class PostgreSqlBackfillSchema
{
    /// <summary>Gets the script that creates the tables of these options (and their schema), if missing.</summary>
    /// <param name="options">The options (<c>new()</c> for the defaults).</param>
    /// <returns>Idempotent SQL: it can run any number of times.</returns>
    /// <exception cref="ArgumentException">A name is not 1 to 63 ASCII letters, digits or underscores, not starting
    /// with a digit.</exception>
    public static string CreateScript(PostgreSqlBackfillCheckpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (checkpoints, quarantine) = Tables(options);
        var script = new StringBuilder();
        script
            .Append("-- LazyMigrate backfill checkpoints ")
            .Append(checkpoints.Qualified)
            .Append(": one row per migration, saved after each committed batch.\n");
        PostgreSqlDocumentStoreSchema.AppendCreateSchema(script, checkpoints);
        script
            .Append("CREATE TABLE IF NOT EXISTS ")
            .Append(checkpoints.Qualified)
            .Append(" (\n")
            .Append("    migration        text COLLATE \"C\" NOT NULL PRIMARY KEY,\n")
            .Append("    cursor_id        text COLLATE \"C\",       -- the last id of the last committed batch\n")
            .Append("    scanned          bigint NOT NULL DEFAULT 0,\n")
            .Append("    migrated         bigint NOT NULL DEFAULT 0,\n")
            .Append("    already_present  bigint NOT NULL DEFAULT 0,\n")
            .Append("    vanished         bigint NOT NULL DEFAULT 0,\n")
            .Append("    quarantined      bigint NOT NULL DEFAULT 0,\n")
            .Append("    is_complete      boolean NOT NULL DEFAULT false,\n")
            .Append(
                "    saved            boolean NOT NULL DEFAULT false,  -- a checkpoint was saved (not just leased)\n"
            )
            .Append("    updated_at       timestamptz,\n")
            .Append("    lease_owner      text,                    -- the instance advancing the backfill\n")
            .Append("    lease_expires_at timestamptz\n")
            .Append(");\n")
            .Append("-- LazyMigrate backfill quarantine ")
            .Append(quarantine.Qualified)
            .Append(": the entities a backfill could not migrate, until a retry clears them.\n")
            .Append("CREATE TABLE IF NOT EXISTS ")
            .Append(quarantine.Qualified)
            .Append(" (\n")
            .Append("    migration      text COLLATE \"C\" NOT NULL,\n")
            .Append("    entity_id      text COLLATE \"C\" NOT NULL,\n")
            .Append(
                "    error          text NOT NULL,               -- the error's type and message, never the record\n"
            )
            .Append("    quarantined_at timestamptz NOT NULL,\n")
            .Append("    attempts       integer NOT NULL,\n")
            .Append("    PRIMARY KEY (migration, entity_id)\n")
            .Append(");\n");
        return script.ToString();
    }

    /// <summary>
    /// Creates the tables of these options if they are missing: one query when they exist (no DDL privilege needed
    /// then), otherwise the script in a transaction, serialized across instances by an advisory lock.
    /// </summary>
    /// <param name="dataSource">The data source.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call created them.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlBackfillCheckpointOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlBackfillCheckpointOptions();
        var (_, quarantine) = Tables(options);

        // The quarantine table is created last: when it is there, so is the checkpoint table.
        return PostgreSqlDocumentStoreSchema.CreateAsync(
            dataSource,
            quarantine,
            CreateScript(options),
            null,
            cancellationToken
        );
    }

    internal static (DocumentTableName Checkpoints, DocumentTableName Quarantine) Tables(
        PostgreSqlBackfillCheckpointOptions options
    ) =>
        (
            DocumentTableName.Of(options.Schema, options.TableName),
            DocumentTableName.Of(options.Schema, options.QuarantineTableName)
        );
}
