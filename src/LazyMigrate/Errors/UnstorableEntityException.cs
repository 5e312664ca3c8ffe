namespace LazyMigrate;

/// <summary>
/// A store cannot hold this entity as it is, for example a string holding a NUL character (U+0000) in a PostgreSQL
/// store: nothing of the call was written. It is a permanent fault of the entity's data, never retried.
/// </summary>
/// <remarks>
/// A store throws it before anything is sent; a batched write that throws it names the first such entity and wrote
/// none of the batch. A backfill quarantines the entity and migrates the rest of its batch. The message names the id
/// and the cause, never the entity's values.
/// </remarks>
public sealed class UnstorableEntityException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="UnstorableEntityException"/> class.</summary>
    /// <param name="entityId">The id of the entity the store cannot hold.</param>
    /// <param name="cause">Why the store cannot hold it, never its values: for example the table and column.</param>
    /// <param name="innerException">The store's own refusal, if any.</param>
    public UnstorableEntityException(string entityId, string cause, Exception? innerException = null)
        : base(
            entityId,
            $"Entity '{entityId}' cannot be stored as it is, and nothing was written: {cause}",
            innerException
        ) { }
}
