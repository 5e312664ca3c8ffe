namespace LazyMigrate;

/// <summary>What a call to <see cref="IMigratingRepository{TOld, TNew}.MigrateAsync"/> found or did.</summary>
public enum MigrationOutcome
{
    /// <summary>The entity was copied from the old store to the new store.</summary>
    Migrated = 0,

    /// <summary>The new store already held the entity (migrated or saved earlier, or by a concurrent caller).</summary>
    AlreadyMigrated = 1,

    /// <summary>Neither store holds the entity.</summary>
    Absent = 2,

    /// <summary>The entity was deleted through the new API; it stays deleted.</summary>
    Deleted = 3,
}
