namespace LazyMigrate.PostgreSql;

/// <summary>Options of a <see cref="PostgreSqlOutbox"/>, validated at start-up.</summary>
public sealed class PostgreSqlOutboxOptions
{
    /// <summary>The table name unless one is set.</summary>
    public const string DefaultTableName = "lazymigrate_outbox";

    /// <summary>Gets or sets the schema of the outbox table. Always quoted, so case matters.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the table name: ASCII letters, digits and underscores, at most 63 characters, not starting with a
    /// digit. Always quoted, so case matters. One table serves any number of migrations: every row names its own.
    /// </summary>
    /// <value>The default value is <c>lazymigrate_outbox</c>.</value>
    public string TableName { get; set; } = DefaultTableName;

    /// <summary>
    /// Gets or sets whether the outbox creates its schema, table and indexes, if the table is missing, before its first
    /// command (with <see cref="PostgreSqlOutboxSchema.CreateScript(string, string)"/>'s script). Leave it off where a
    /// DBA runs DDL.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CreateSchema { get; set; }

    /// <summary>
    /// Gets or sets whether the host checks the outbox when it starts (registered through <c>UsePostgreSqlOutbox</c>):
    /// the database answers and the table is there with the outbox's columns (with <see cref="CreateSchema"/>, created
    /// first if missing). A failed check fails <c>host.StartAsync()</c> with an <see cref="InvalidOperationException"/>
    /// naming the migration, the table and the cause.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the outbox prepares its statements on each pooled connection, as the stores do (<see
    /// cref="PostgreSqlDocumentStoreOptions.PrepareStatements"/>). The new store's writes that record intents follow
    /// the store's own setting.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PrepareStatements { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the data source comes from the container (set by the builder extensions), so validation
    /// checks one is registered.
    /// </summary>
    internal bool DataSourceFromContainer { get; set; }
}
