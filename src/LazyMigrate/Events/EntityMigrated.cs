namespace LazyMigrate;

/// <summary>Raised once per entity by the caller whose insert into the new store succeeded.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public sealed class EntityMigrated<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Initializes a new instance of the <see cref="EntityMigrated{TOld, TNew}"/> class.</summary>
    /// <param name="eventId">An id that is the same every time this event is delivered.</param>
    /// <param name="migrationName">The name of the migration (the entity pair).</param>
    /// <param name="entityId">The entity id.</param>
    /// <param name="oldValue">The entity as read from the old store.</param>
    /// <param name="newValue">The entity as inserted into the new store.</param>
    /// <param name="trigger">What caused the migration.</param>
    /// <param name="migratedAt">When the entity was inserted into the new store.</param>
    public EntityMigrated(
        Guid eventId,
        string migrationName,
        string entityId,
        TOld oldValue,
        TNew newValue,
        MigrationTrigger trigger,
        DateTimeOffset migratedAt
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migrationName);
        ArgumentException.ThrowIfNullOrEmpty(entityId);
        ArgumentNullException.ThrowIfNull(oldValue);
        ArgumentNullException.ThrowIfNull(newValue);
        EventId = eventId;
        MigrationName = migrationName;
        EntityId = entityId;
        OldValue = oldValue;
        NewValue = newValue;
        Trigger = trigger;
        MigratedAt = migratedAt;
    }

    /// <summary>
    /// Gets an id derived from the migration name and the entity id: the same on every redelivery, so handlers can
    /// deduplicate.
    /// </summary>
    public Guid EventId { get; }

    /// <summary>Gets the name of the migration (the entity pair).</summary>
    public string MigrationName { get; }

    /// <summary>Gets the entity id.</summary>
    public string EntityId { get; }

    /// <summary>Gets the entity as read from the old store.</summary>
    public TOld OldValue { get; }

    /// <summary>Gets the entity as inserted into the new store.</summary>
    public TNew NewValue { get; }

    /// <summary>Gets what caused the migration.</summary>
    public MigrationTrigger Trigger { get; }

    /// <summary>Gets when the entity was inserted into the new store.</summary>
    public DateTimeOffset MigratedAt { get; }
}
