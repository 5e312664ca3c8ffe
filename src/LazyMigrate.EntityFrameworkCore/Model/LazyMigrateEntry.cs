namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// One row per id a new store holds or has deleted: the claim every write of that id takes first, and the tombstone
/// once the id is deleted. Map it with <see cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateEntries"/>.
/// </summary>
/// <remarks>
/// The entries table is what makes insert-if-absent hold under concurrency on any provider: its primary key
/// (<see cref="EntityType"/>, <see cref="EntityId"/>) lets the database, not the application, decide which of two
/// racing writes of one id comes first. See <c>docs/entity-framework-core.md</c>.
/// </remarks>
public sealed class LazyMigrateEntry
{
    /// <summary>The longest <see cref="EntityType"/> the mapping allows.</summary>
    public const int MaxEntityTypeLength = 100;

    /// <summary>The longest <see cref="EntityId"/> the mapping allows; a new store rejects longer ids.</summary>
    public const int MaxEntityIdLength = 300;

    /// <summary>
    /// Gets or sets the entity type name of the store that wrote the row (several stores can share the table).
    /// </summary>
    public string EntityType { get; set; } = "";

    /// <summary>Gets or sets the entity id.</summary>
    public string EntityId { get; set; } = "";

    /// <summary>Gets or sets a value indicating whether the id is deleted: the row is then a tombstone.</summary>
    public bool IsDeleted { get; set; }
}
