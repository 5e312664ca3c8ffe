using System.Text.Json;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// Options of a PostgreSQL document store (<see cref="PostgreSqlNewStore{TNew}"/> or <see
/// cref="PostgreSqlOldStore{TOld}"/>), validated at start-up.
/// </summary>
public sealed class PostgreSqlDocumentStoreOptions
{
    /// <summary>Gets or sets the schema of the table. Always quoted, so case matters.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the table name: ASCII letters, digits and underscores, at most 63 characters, not starting with a
    /// digit. Always quoted, so case matters. <see langword="null"/> derives it from the entity type's name in
    /// snake_case (<c>LegacyCustomer</c> becomes <c>legacy_customer</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/> (derived from the entity type).</value>
    public string? TableName { get; set; }

    /// <summary>
    /// Gets or sets whether the store creates its schema and table, if missing, before its first command (with
    /// <see cref="PostgreSqlDocumentStoreSchema.CreateScript(string, string)"/>'s script); a new store also adds the
    /// <c>stale</c> column to a table an earlier version created without it. Leave it off where a DBA runs DDL.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CreateSchema { get; set; }

    /// <summary>
    /// Gets or sets whether the host checks the store when it starts (registered through <c>UsePostgreSqlOldStore</c>
    /// or <c>UsePostgreSqlNewStore</c>): the database answers and the table is there with the store's columns, or, with
    /// <see cref="CreateSchema"/>, is created then. A failed check fails <c>host.StartAsync()</c> with an <see
    /// cref="InvalidOperationException"/> naming the migration, the store and the cause. Without a host (a provider
    /// built by hand) nothing runs the check. Turn it off where the database may be down when the service starts.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;

    /// <summary>
    /// Gets or sets the System.Text.Json options of the <c>jsonb</c> payloads. The store makes them read-only.
    /// </summary>
    /// <value>The default value is a new instance with <see cref="JsonSerializerDefaults.Web"/> (camelCase names,
    /// case-insensitive reads).</value>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Gets or sets how many rows one query of a scan (<see cref="IOldStore{TOld}.ScanAsync"/>) reads.
    /// </summary>
    /// <value>The default value is 1000.</value>
    public int ScanPageSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets whether the store prepares its statements on each pooled connection (once per physical connection;
    /// Npgsql keeps them across pool returns), so PostgreSQL parses and plans each statement once instead of on every
    /// call. Turn it off behind a connection pooler that cannot keep prepared statements per client, such as PgBouncer
    /// in transaction mode before version 1.21. A multiplexing data source never prepares.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PrepareStatements { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the data source comes from the container (set by the builder extensions), so validation
    /// checks one is registered.
    /// </summary>
    internal bool DataSourceFromContainer { get; set; }
}
