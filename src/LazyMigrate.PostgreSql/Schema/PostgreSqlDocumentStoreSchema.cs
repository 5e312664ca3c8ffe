using System.Data;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The DDL of a document store table, for teams whose DBAs run DDL, and the call that runs it
/// (<see cref="PostgreSqlDocumentStoreOptions.CreateSchema"/> runs the same script).
/// </summary>
public static class PostgreSqlDocumentStoreSchema
{
    /// <summary>
    /// Keys the transaction-scoped advisory lock that keeps instances from creating one table at once.
    /// </summary>
    private const string CreationLockKey = "lazymigrate:schema";

    /// <summary>
    /// The column a new store's table has on top of the first layout: whether the old API wrote the row's entity since
    /// the new store last did (the forward sync capture trigger sets it; see
    /// <see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/>).
    /// </summary>
    internal const string StaleColumn = "stale";

    /// <summary>
    /// The column of a new store's table that holds a write-back the old store has not had yet, recorded in the row
    /// itself by an <c>Async</c> save or delete: the outbox sequence of its latest write, <c>NULL</c> when none. The
    /// outbox moves it into a write-back item before it reads (see <c>PendingWriteBacks</c>).
    /// </summary>
    internal const string PendingWriteBackColumn = "writeback_pending";

    /// <summary>The column beside <see cref="PendingWriteBackColumn"/>: its first write's time, by the writer's clock.
    /// The last column the layout gained, so a table that has it has every other.</summary>
    internal const string PendingSinceColumn = "writeback_pending_since";

    /// <summary>The columns a new store's table gained after the first layout, in order, with their types.</summary>
    internal static readonly (string Name, string Type)[] AddedColumns =
    [
        (StaleColumn, "boolean NOT NULL DEFAULT false"),
        (PendingWriteBackColumn, "bigint"),
        (PendingSinceColumn, "timestamptz"),
    ];

    /// <summary>Gets the statement that adds <see cref="AddedColumns"/> to a table that lacks them.</summary>
    internal static string AddColumnsStatement(DocumentTableName table) =>
        $"ALTER TABLE {table.Qualified} "
        + string.Join(", ", AddedColumns.Select(c => $"ADD COLUMN IF NOT EXISTS {c.Name} {c.Type}"));

    /// <summary>Gets the quoted name of the index of the rows that hold a pending write-back.</summary>
    internal static string PendingWriteBackIndex(DocumentTableName table) =>
        PostgreSqlOutboxSchema.IndexName(table, "_writeback_pending");

    /// <summary>
    /// Gets the creation of the index of pending write-backs; <paramref name="concurrently"/> for a table in use, which
    /// it does not block (outside a transaction).
    /// </summary>
    internal static string CreatePendingWriteBackIndex(DocumentTableName table, bool concurrently) =>
        $"CREATE INDEX {(concurrently ? "CONCURRENTLY " : "")}IF NOT EXISTS {PendingWriteBackIndex(table)}\n    ON "
        + $"{table.Qualified} (writeback_pending) WHERE writeback_pending IS NOT NULL";

    /// <summary>
    /// Gets the script that creates a document table (and its schema when not <c>public</c>) if missing, and adds the
    /// columns an earlier version created it without (<c>stale</c>, <c>writeback_pending</c>,
    /// <c>writeback_pending_since</c>) and the index of pending write-backs.
    /// </summary>
    /// <param name="schema">The schema name.</param>
    /// <param name="tableName">The table name.</param>
    /// <returns>Idempotent SQL: it can run any number of times.</returns>
    /// <exception cref="ArgumentException">A name is not 1 to 63 ASCII letters, digits or underscores, not starting
    /// with a digit.</exception>
    public static string CreateScript(string schema, string tableName) =>
        CreateScript(DocumentTableName.Of(schema, tableName));

    /// <summary>
    /// Gets the script that creates the table of <typeparamref name="TEntity"/>'s store with these options, if missing.
    /// </summary>
    /// <typeparam name="TEntity">The entity type; names the table when <see
    /// cref="PostgreSqlDocumentStoreOptions.TableName"/> is not set.</typeparam>
    /// <param name="options">The store options (<c>new()</c> for the defaults).</param>
    /// <returns>Idempotent SQL: it can run any number of times.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static string CreateScript<TEntity>(PostgreSqlDocumentStoreOptions options)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(options);
        return CreateScript(Resolve<TEntity>(options));
    }

    /// <summary>
    /// Creates the table of <typeparamref name="TEntity"/>'s store if it is missing, or adds the columns (and index) an
    /// earlier version created it without: one query when the table is up to date (no DDL privilege needed
    /// then), otherwise the script in a transaction, serialized across instances by an advisory lock.
    /// </summary>
    /// <typeparam name="TEntity">The entity type; names the table when <see
    /// cref="PostgreSqlDocumentStoreOptions.TableName"/> is not set.</typeparam>
    /// <param name="dataSource">The data source.</param>
    /// <param name="options">The store options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call created the table or added the column.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static ValueTask<bool> CreateAsync<TEntity>(
        NpgsqlDataSource dataSource,
        PostgreSqlDocumentStoreOptions? options = null,
        CancellationToken cancellationToken = default
    )
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        DocumentTableName table = Resolve<TEntity>(options);
        return CreateAsync(dataSource, table, CreateScript(table), PendingSinceColumn, cancellationToken);
    }

    internal static string CreateScript(DocumentTableName table)
    {
        var script = new System.Text.StringBuilder();
        script.Append("-- LazyMigrate document table ").Append(table.Qualified).Append(": one row per entity id.\n");
        AppendCreateSchema(script, table);
        script
            .Append("CREATE TABLE IF NOT EXISTS ")
            .Append(table.Qualified)
            .Append(" (\n")
            .Append(
                "    id         text COLLATE \"C\" NOT NULL PRIMARY KEY, "
                    + "-- \"C\" (byte) order: the keyset scan's order\n"
            )
            .Append(
                "    payload    jsonb,                                 "
                    + "-- the entity, as System.Text.Json writes it; NULL in a tombstone\n"
            )
            .Append(
                "    deleted    boolean NOT NULL DEFAULT false,        "
                    + "-- a tombstone (new store): deleted, never migrated again\n"
            )
            .Append("    updated_at timestamptz NOT NULL DEFAULT now(),    -- the last write\n")
            .Append(
                "    stale      boolean NOT NULL DEFAULT false,        "
                    + "-- (new store) written through the old API since; set by the capture trigger\n"
            )
            .Append(
                "    writeback_pending       bigint,                   "
                    + "-- (new store) an Async write the old store lacks: its outbox sequence\n"
            )
            .Append(
                "    writeback_pending_since timestamptz,              "
                    + "-- (new store) the first such write, by the writer's clock\n"
            )
            .Append("    CHECK (deleted OR payload IS NOT NULL)\n")
            .Append(");\n")
            .Append(
                "-- A table created by an earlier version gets the columns (no rewrite: each default is a constant).\n"
            )
            .Append(AddColumnsStatement(table))
            .Append(";\n")
            .Append(
                "-- The rows whose write-back the outbox has yet to take over, oldest first (empty but for them).\n"
            )
            .Append(CreatePendingWriteBackIndex(table, concurrently: false))
            .Append(";\n");
        return script.ToString();
    }

    /// <summary>Appends the creation of the table's schema, unless it is <c>public</c> or exists.</summary>
    internal static void AppendCreateSchema(System.Text.StringBuilder script, DocumentTableName table)
    {
        if (table.Schema != "public")
        {
            // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema exists.
            script
                .Append("DO $lazymigrate$\nBEGIN\n")
                .Append("    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = '")
                .Append(table.Schema)
                .Append("') THEN\n")
                .Append("        CREATE SCHEMA ")
                .Append(PostgreSqlIdentifier.Quote(table.Schema, "schema"))
                .Append(";\n")
                .Append("    END IF;\nEND\n$lazymigrate$;\n");
        }
    }

    /// <summary>
    /// Runs the document table's script unless the table exists, and, with <paramref name="requiredColumn"/> (a new
    /// store's <see cref="StaleColumn"/>), has that column.
    /// </summary>
    internal static ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        DocumentTableName table,
        string? requiredColumn,
        CancellationToken cancellationToken
    ) => CreateAsync(dataSource, table, CreateScript(table), requiredColumn, cancellationToken);

    /// <summary>
    /// Runs <paramref name="script"/>, which creates <paramref name="table"/> (and what goes with it), unless the table
    /// exists (with <paramref name="requiredColumn"/>, when given): the creation shared by every table LazyMigrate
    /// creates (stores and outbox), under one advisory lock.
    /// </summary>
    /// <returns><see langword="true"/> when this call ran the script.</returns>
    internal static ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        DocumentTableName table,
        string script,
        string? requiredColumn,
        CancellationToken cancellationToken
    ) =>
        CreateUnlessAsync(
            dataSource,
            (connection, ct) => ExistsAsync(connection, table, requiredColumn, ct),
            script,
            cancellationToken
        );

    /// <summary>
    /// Runs <paramref name="script"/> unless <paramref name="exists"/> finds what it creates: checked once, then again
    /// under the advisory lock every creation LazyMigrate runs takes, in the script's transaction, at read committed
    /// (whatever the database's default) so that the second check sees what another instance created meanwhile.
    /// </summary>
    /// <param name="dataSource">The data source.</param>
    /// <param name="exists">Whether what the script creates is there.</param>
    /// <param name="script">The script.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <param name="lockTimeout">
    /// The lock timeout the script sets for itself, if any: the advisory lock and the script may wait that long on top
    /// of the connection's command timeout (<see cref="LockWaitCommandTimeout"/>).
    /// </param>
    /// <returns><see langword="true"/> when this call ran the script.</returns>
    internal static async ValueTask<bool> CreateUnlessAsync(
        NpgsqlDataSource dataSource,
        Func<NpgsqlConnection, CancellationToken, ValueTask<bool>> exists,
        string script,
        CancellationToken cancellationToken,
        TimeSpan? lockTimeout = null
    )
    {
        NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (await exists(connection, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            NpgsqlTransaction transaction = await connection
                .BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken)
                .ConfigureAwait(false);
            int? timeout = lockTimeout is { } wait ? LockWaitCommandTimeout.Of(connection, wait) : null;
            await using (transaction.ConfigureAwait(false))
            {
                NpgsqlCommand lockCommand = new(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    connection,
                    transaction
                );
                lockCommand.CommandTimeout = timeout ?? lockCommand.CommandTimeout;
                await using (lockCommand.ConfigureAwait(false))
                {
                    lockCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = CreationLockKey });
                    await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // Another instance may have created it while this one waited for the lock.
                if (await exists(connection, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }

                NpgsqlCommand create = new(script, connection, transaction);
                create.CommandTimeout = timeout ?? create.CommandTimeout;
                await using (create.ConfigureAwait(false))
                {
                    await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    /// <summary>
    /// Looks the table up with a query on the catalog, which reads it under the statement's own snapshot. Not
    /// <c>to_regclass</c>: that reads the session's catalog cache, which an advisory lock does not refresh, so it could
    /// miss a table another instance created while this one waited.
    /// </summary>
    /// <remarks>With <paramref name="column"/>, the table counts only when it has that column too.</remarks>
    private static async ValueTask<bool> ExistsAsync(
        NpgsqlConnection connection,
        DocumentTableName table,
        string? column,
        CancellationToken cancellationToken
    )
    {
        NpgsqlCommand command = new(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = $1 AND c.relname = $2"
                + (
                    column is null
                        ? ")"
                        : " AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
                            + "AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped))"
                ),
            connection
        );
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table.Schema });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table.Table });
            if (column is not null)
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = column });
            }

            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    private static DocumentTableName Resolve<TEntity>(PostgreSqlDocumentStoreOptions? options)
    {
        options ??= new PostgreSqlDocumentStoreOptions();
        PostgreSqlDocumentStoreOptionsValidator.ThrowIfInvalid(options);
        return DocumentTableName.For(options, typeof(TEntity));
    }
}
