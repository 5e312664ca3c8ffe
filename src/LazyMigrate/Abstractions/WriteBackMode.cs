namespace LazyMigrate;

/// <summary>
/// How saves and deletes through the new API reach the old store, so that old read clients keep seeing them.
/// </summary>
public enum WriteBackMode
{
    /// <summary>No write-back: the old store stops seeing changes made through the new API.</summary>
    None = 0,

    /// <summary>The old store is written, through the reverse mapper, before the save or delete returns.</summary>
    Sync = 1,

    /// <summary>
    /// The old store is written later through a durable, idempotent outbox. Not available in this version: choosing it
    /// fails at start-up.
    /// </summary>
    Async = 2,
}
