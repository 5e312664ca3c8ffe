namespace LazyMigrate;

/// <summary>The collaborators a migration calls; each has its own resilience pipeline.</summary>
public enum MigrationRole
{
    /// <summary>The old store.</summary>
    OldStore = 0,

    /// <summary>The new store.</summary>
    NewStore = 1,

    /// <summary>The lock provider.</summary>
    Lock = 2,

    /// <summary>The outbox: the dispatcher's claims and completions, and the intents a store does not write.</summary>
    Outbox = 3,
}
