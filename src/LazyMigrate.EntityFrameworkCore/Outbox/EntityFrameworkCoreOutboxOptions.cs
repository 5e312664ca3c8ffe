namespace LazyMigrate.EntityFrameworkCore;

/// <summary>Options of an <see cref="EntityFrameworkCoreOutbox{TContext}"/>, validated at start-up.</summary>
public sealed class EntityFrameworkCoreOutboxOptions
{
    /// <summary>
    /// Gets or sets how many times a standalone record (<see cref="EntityFrameworkCoreOutbox{TContext}.RecordAsync"/>)
    /// is attempted when a concurrent record of the same item inserted it first (each lost attempt means the item
    /// exists, so the next one updates it).
    /// </summary>
    /// <value>The default value is 5. Between 1 and 100.</value>
    public int MaxRecordAttempts { get; set; } = 5;

    /// <summary>
    /// Gets or sets whether the host checks the outbox when it starts (registered through
    /// <c>UseEntityFrameworkCoreOutbox</c>): the database opens and the outbox table answers a query. A failed check
    /// fails <c>host.StartAsync()</c> with an <see cref="InvalidOperationException"/> naming the migration, the table
    /// and the cause.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;
}
