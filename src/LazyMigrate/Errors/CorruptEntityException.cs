namespace LazyMigrate;

/// <summary>
/// A store holds a record of an entity that does not read as the entity type (a column of the wrong type, a payload
/// that is not JSON of it). A backfill quarantines such an entity and goes on; the record itself is never logged.
/// </summary>
/// <remarks>An old store's scan that meets one yields every entity before it, then throws this exception: a backfill
/// resumes the scan after <see cref="LazyMigrationException.EntityId"/>.</remarks>
public abstract class CorruptEntityException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="CorruptEntityException"/> class.</summary>
    /// <param name="entityId">The id of the entity whose record is corrupt.</param>
    /// <param name="message">The message, which never holds the record.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected CorruptEntityException(string entityId, string message, Exception? innerException)
        : base(entityId, message, innerException) { }
}
