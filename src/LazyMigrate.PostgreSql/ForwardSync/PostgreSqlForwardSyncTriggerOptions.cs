namespace LazyMigrate.PostgreSql;

/// <summary>
/// Where the forward sync capture trigger goes and what it records (<see cref="PostgreSqlForwardSyncTrigger"/>): the
/// legacy table and its key, the migration, and the outbox table, which must be in the same database.
/// </summary>
public sealed class PostgreSqlForwardSyncTriggerOptions
{
    /// <summary>The trigger's name on the legacy table, unless set.</summary>
    public const string DefaultTriggerName = "lazymigrate_forward_sync";

    /// <summary>Gets or sets the legacy table's schema.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string LegacySchema { get; set; } = "public";

    /// <summary>Gets or sets the legacy table: the one the old API writes. Required.</summary>
    public string LegacyTable { get; set; } = "";

    /// <summary>Gets or sets the legacy table's key column, whose value (as <c>text</c>) is the entity id.</summary>
    /// <value>The default value is <c>id</c>.</value>
    public string KeyColumn { get; set; } = "id";

    /// <summary>Gets or sets the migration's name, as its items in the outbox carry it. Required.</summary>
    public string Migration { get; set; } = "";

    /// <summary>Gets or sets the outbox table's schema.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string OutboxSchema { get; set; } = "public";

    /// <summary>Gets or sets the outbox table (see <see cref="PostgreSqlOutboxOptions.TableName"/>).</summary>
    /// <value>The default value is <see cref="PostgreSqlOutboxOptions.DefaultTableName"/>.</value>
    public string OutboxTable { get; set; } = PostgreSqlOutboxOptions.DefaultTableName;

    /// <summary>Gets or sets the schema of the new store's table (<see cref="NewStoreTable"/>).</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string NewStoreSchema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the new store's document table (see <see cref="PostgreSqlDocumentStoreOptions.TableName"/>), when
    /// it is in the legacy table's database, for the trigger to mark the entity stale there too: in the legacy write's
    /// transaction, <c>UPDATE</c> the new table <c>SET stale = true</c> for the row's id (old and new key), so that
    /// the repository's next read of it, with <see cref="LazyMigrationOptions.ForwardSync"/> on, syncs it from the old
    /// store before it returns (<see cref="NewStoreRead{TNew}.IsStale"/>) rather than waiting for the dispatcher. An
    /// id the new store does not hold is left alone: it migrates from the legacy row when first read. Each legacy
    /// write then costs one more <c>UPDATE</c> by primary key, and the legacy application's role needs
    /// <c>UPDATE (stale)</c> and <c>SELECT (id, stale)</c> on the new table. <see langword="null"/> or empty: the
    /// trigger only captures the write.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the new store is not marked.</value>
    public string? NewStoreTable { get; set; }

    /// <summary>
    /// Gets or sets how long <see cref="PostgreSqlForwardSyncTrigger.CreateAsync"/> waits for each lock its script
    /// takes, the legacy table's above all: replacing a trigger takes the table's <c>ACCESS EXCLUSIVE</c> lock, which
    /// waits for every legacy transaction in flight on it, and every legacy write that comes meanwhile queues behind
    /// that wait. Past this time the call gives up, with <see cref="TimeoutException"/>, and the queued writes go on.
    /// <see cref="TimeSpan.Zero"/> does not wait (PostgreSQL's least lock timeout, 1 ms);
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes. Unlike
    /// <see cref="LazyMigrationOptions.LockTimeout"/>, which bounds the wait for an entity's migration lock, this
    /// bounds a PostgreSQL lock on a table, and runs out with <see cref="TimeoutException"/>.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets whether the triggers capture a legacy write with LazyMigrate's compiled trigger function (the
    /// <c>lazymigrate_capture</c> server module, which must be installed on the server: docs/postgresql.md) instead
    /// of PL/pgSQL. It records the same captures; a write-back's rows it hands to the PL/pgSQL functions, which run the
    /// order check. It costs a one-row legacy write far less where the legacy pool resets its sessions (Npgsql's
    /// default <c>DISCARD ALL</c>, which makes PostgreSQL plan a PL/pgSQL capture again on every write): see
    /// docs/benchmarks.md. Creating it needs a superuser (a <c>LANGUAGE c</c> function); the key must be
    /// <c>text</c>, <c>varchar</c>, <c>smallint</c>, <c>integer</c>, <c>bigint</c> or <c>uuid</c>; it does not mark
    /// the new store stale (<see cref="NewStoreTable"/> must be unset). Managed PostgreSQL services that do not load
    /// custom server modules cannot use it.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: PL/pgSQL, which needs nothing installed.</value>
    public bool CompiledCapture { get; set; }

    /// <summary>Gets or sets the trigger's name: one per legacy table and migration.</summary>
    /// <value>The default value is <see cref="DefaultTriggerName"/>.</value>
    public string TriggerName { get; set; } = DefaultTriggerName;
}
