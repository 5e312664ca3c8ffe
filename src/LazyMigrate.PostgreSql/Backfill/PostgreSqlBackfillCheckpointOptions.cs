namespace LazyMigrate.PostgreSql;

/// <summary>Options of a <see cref="PostgreSqlBackfillCheckpointStore"/>.</summary>
public sealed class PostgreSqlBackfillCheckpointOptions
{
    /// <summary>The checkpoint table's name unless one is set.</summary>
    public const string DefaultTableName = "lazymigrate_backfill";

    /// <summary>The quarantine table's name unless one is set.</summary>
    public const string DefaultQuarantineTableName = "lazymigrate_backfill_quarantine";

    /// <summary>Gets or sets the schema of both tables. Always quoted, so case matters.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the checkpoint table: one row per migration, with its cursor, counts and lease. ASCII letters,
    /// digits and underscores, at most 63 characters, not starting with a digit; always quoted.
    /// </summary>
    /// <value>The default value is <c>lazymigrate_backfill</c>.</value>
    public string TableName { get; set; } = DefaultTableName;

    /// <summary>Gets or sets the quarantine table: one row per quarantined entity, named as above.</summary>
    /// <value>The default value is <c>lazymigrate_backfill_quarantine</c>.</value>
    public string QuarantineTableName { get; set; } = DefaultQuarantineTableName;

    /// <summary>
    /// Gets or sets whether the store creates its schema and tables, if missing, before its first command (with
    /// <see cref="PostgreSqlBackfillSchema.CreateScript(PostgreSqlBackfillCheckpointOptions)"/>'s script). Leave it off
    /// where a DBA runs DDL.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CreateSchema { get; set; }

    /// <summary>
    /// Gets or sets whether the host's start checks that the database answers and both tables are there with their
    /// columns (with <see cref="CreateSchema"/>, creating them first), so that a missing table fails
    /// <c>host.StartAsync()</c> with an error naming the migration and the table, not the backfill's first batch.
    /// Runs only in a host (an <c>IHostedService</c>).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;
}
