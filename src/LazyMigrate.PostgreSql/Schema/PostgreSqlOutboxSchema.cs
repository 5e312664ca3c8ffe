using System.Text;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The DDL of an outbox table, for teams whose DBAs run DDL, and the call that runs it
/// (<see cref="PostgreSqlOutboxOptions.CreateSchema"/> runs the same script).
/// </summary>
public static class PostgreSqlOutboxSchema
{
    /// <summary>The longest PostgreSQL identifier, in bytes: a longer index or sequence name would be cut short.
    /// </summary>
    private const int MaxIdentifierLength = 63;

    /// <summary>
    /// Gets the script that creates an outbox table, its sequence and indexes, and the table of the legacy writes a
    /// forward sync trigger captures (and the schema when not <c>public</c>), if missing.
    /// </summary>
    /// <param name="schema">The schema name.</param>
    /// <param name="tableName">The table name.</param>
    /// <returns>Idempotent SQL: it can run any number of times.</returns>
    /// <exception cref="ArgumentException">A name is not 1 to 63 ASCII letters, digits or underscores, not starting
    /// with a digit.</exception>
    public static string CreateScript(string schema, string tableName) =>
        CreateScript(DocumentTableName.Of(schema, tableName));

    /// <summary>Gets the script that creates the outbox table of these options, if missing.</summary>
    /// <param name="options">The outbox options (<c>new()</c> for the defaults).</param>
    /// <returns>Idempotent SQL: it can run any number of times.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static string CreateScript(PostgreSqlOutboxOptions options) => CreateScript(Resolve(options));

    /// <summary>
    /// Creates the outbox table of these options if it is missing: one query when it exists (no DDL privilege needed
    /// then), otherwise the script in a transaction, serialized across instances by an advisory lock.
    /// </summary>
    /// <param name="dataSource">The data source.</param>
    /// <param name="options">The outbox options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call created the table.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlOutboxOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        DocumentTableName table = Resolve(options ?? new PostgreSqlOutboxOptions());
        // The captures table, created last, is what says the script ran whole: an outbox made before it had one gets
        // it too.
        return PostgreSqlDocumentStoreSchema.CreateAsync(
            dataSource,
            CapturesOf(table),
            CreateScript(table),
            null,
            cancellationToken
        );
    }

    internal static string CreateScript(DocumentTableName table)
    {
        string t = table.Qualified;
        var script = new StringBuilder();
        script
            .Append("-- LazyMigrate outbox ")
            .Append(t)
            .Append(": one item per (migration, kind, entity id), deleted once applied.\n");
        PostgreSqlDocumentStoreSchema.AppendCreateSchema(script, table);
        string sequence = SequenceName(table);
        script
            .Append("-- Orders every record of an item (IMigrationOutbox: a later record has a greater sequence).\n")
            .Append("CREATE SEQUENCE IF NOT EXISTS ")
            .Append(sequence)
            .Append(";\n")
            .Append("CREATE TABLE IF NOT EXISTS ")
            .Append(t)
            .Append(" (\n")
            .Append("    migration        text COLLATE \"C\" NOT NULL,   -- the migration's name\n")
            .Append("    kind             smallint NOT NULL,           -- 1 write-back, 2 event, 3 forward sync\n")
            .Append("    entity_id        text COLLATE \"C\" NOT NULL,\n")
            .Append("    version          bigint NOT NULL,             -- 1, then one more per write coalesced\n")
            .Append("    sequence         bigint NOT NULL DEFAULT nextval('")
            .Append(sequence)
            .Append("'), -- the order of the item's latest record\n")
            .Append("    payload          jsonb,                       -- an event's values; NULL for a write-back\n")
            .Append("    recorded_at      timestamptz NOT NULL,        -- the first write, by the writer's clock\n")
            .Append("    attempts         integer NOT NULL DEFAULT 0,  -- failed attempts so far\n")
            .Append("    next_attempt_at  timestamptz NOT NULL,        -- due from then (a failure's backoff)\n")
            .Append("    last_error       text,                        -- the last failure, without payloads\n")
            .Append("    dead_lettered    boolean NOT NULL DEFAULT false,\n")
            .Append("    lease_owner      text,                        -- the dispatcher applying it\n")
            .Append("    lease_expires_at timestamptz,                 -- when another may take it over\n")
            .Append("    PRIMARY KEY (migration, kind, entity_id)\n")
            .Append(");\n")
            .Append("-- Dropped with the table.\n")
            .Append("ALTER SEQUENCE ")
            .Append(sequence)
            .Append(" OWNED BY ")
            .Append(t)
            .Append(".sequence;\n")
            .Append("-- The claim: due items of one migration, oldest due first.\n")
            .Append("CREATE INDEX IF NOT EXISTS ")
            .Append(IndexName(table, "_due"))
            .Append("\n    ON ")
            .Append(t)
            .Append(" (migration, next_attempt_at) WHERE NOT dead_lettered;\n")
            .Append("-- The dead letters of one migration, oldest first.\n")
            .Append("CREATE INDEX IF NOT EXISTS ")
            .Append(IndexName(table, "_dead"))
            .Append("\n    ON ")
            .Append(t)
            .Append(" (migration, recorded_at) WHERE dead_lettered;\n");
        AppendCaptures(script, table, sequence);
        return script.ToString();
    }

    /// <summary>
    /// The table a forward sync trigger appends a legacy write's id to (<see cref="PostgreSqlForwardSyncTrigger"/>):
    /// no conflict clause, no check, one index, so that the legacy write pays for one plain insert; a claim folds its
    /// rows into items. Created last, so that its presence means the whole script ran.
    /// </summary>
    private static void AppendCaptures(StringBuilder script, DocumentTableName table, string sequence)
    {
        DocumentTableName captures = CapturesOf(table);
        script
            .Append("-- Legacy writes a forward sync trigger captured, not yet folded into items; each takes its\n")
            .Append("-- sequence when the legacy write ran, and the database's clock (a trigger has no other).\n")
            .Append("CREATE TABLE IF NOT EXISTS ")
            .Append(captures.Qualified)
            .Append(" (\n")
            .Append("    migration   text COLLATE \"C\" NOT NULL,\n")
            .Append("    entity_id   text COLLATE \"C\" NOT NULL,\n")
            .Append("    sequence    bigint NOT NULL DEFAULT nextval('")
            .Append(sequence)
            .Append("'),\n")
            .Append("    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()\n")
            .Append(");\n")
            .Append("-- A lookup's and a write-back's order check: the captures of one entity. Unique (a sequence is\n")
            .Append("-- never taken twice), so that it is the replica identity: a publication FOR ALL TABLES would\n")
            .Append("-- otherwise refuse the fold's DELETE.\n")
            .Append("CREATE UNIQUE INDEX IF NOT EXISTS ")
            .Append(IndexName(captures, "_entity"))
            .Append("\n    ON ")
            .Append(captures.Qualified)
            .Append(" (migration, entity_id, sequence);\n")
            .Append("ALTER TABLE ")
            .Append(captures.Qualified)
            .Append(" REPLICA IDENTITY USING INDEX ")
            .Append(IndexName(captures, "_entity"))
            .Append(";\n");
    }

    /// <summary>
    /// Gets the table of the outbox's captured legacy writes, <c>&lt;table&gt;_captures</c> in the outbox's schema
    /// (cut to fit as <see cref="IndexName"/> is).
    /// </summary>
    internal static DocumentTableName CapturesOf(DocumentTableName table) =>
        DocumentTableName.Of(table.Schema, NameOf(table, "_captures"));

    /// <summary>Gets the quoted name of an index of the table: the table's, cut to fit, and a suffix.</summary>
    internal static string IndexName(DocumentTableName table, string suffix) =>
        PostgreSqlIdentifier.Quote(NameOf(table, suffix), "index");

    /// <summary>
    /// Gets the quoted, schema-qualified name of the table's sequence, <c>&lt;table&gt;_sequence</c> in the table's
    /// schema (cut to fit as <see cref="IndexName"/> is), for SQL text such as <c>nextval('...')</c>: every record of
    /// an item takes its <c>sequence</c> from it, the table's default for an insert and the coalescing update's.
    /// </summary>
    internal static string SequenceName(DocumentTableName table) =>
        $"{PostgreSqlIdentifier.Quote(table.Schema, "schema")}."
        + PostgreSqlIdentifier.Quote(NameOf(table, "_sequence"), "sequence");

    /// <summary>The table's name, cut so that with <paramref name="suffix"/> it fits a PostgreSQL identifier.</summary>
    internal static string NameOf(DocumentTableName table, string suffix)
    {
        string name = table.Table;
        int room = MaxIdentifierLength - suffix.Length;
        return (name.Length > room ? name[..room] : name) + suffix;
    }

    private static DocumentTableName Resolve(PostgreSqlOutboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PostgreSqlOutboxOptionsValidator.ThrowIfInvalid(options);
        return DocumentTableName.Of(options.Schema, options.TableName);
    }
}
