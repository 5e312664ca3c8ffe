namespace LazyMigrate;

/// <summary>The base of the exceptions LazyMigrate throws about one entity.</summary>
public abstract class LazyMigrationException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="LazyMigrationException"/> class.</summary>
    /// <param name="entityId">The id of the entity concerned.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected LazyMigrationException(string entityId, string message, Exception? innerException)
        : base(message, innerException)
    {
        EntityId = entityId;
    }

    /// <summary>Gets the id of the entity concerned.</summary>
    public string EntityId { get; }
}
