namespace LazyMigrate;

/// <summary>What the new store holds for one id.</summary>
public enum NewStoreState
{
    /// <summary>Nothing: the entity has not been migrated or saved yet.</summary>
    Missing = 0,

    /// <summary>An entity.</summary>
    Found = 1,

    /// <summary>A tombstone: the entity was deleted and must not come back.</summary>
    Deleted = 2,
}
