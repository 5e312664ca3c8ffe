namespace LazyMigrate;

/// <summary>An id a store cannot use, for example one that does not parse as the store's key type.</summary>
/// <remarks>Store adapters throw it; the repository passes it on unchanged and never retries it.</remarks>
public sealed class InvalidEntityIdException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="InvalidEntityIdException"/> class.</summary>
    /// <param name="entityId">The id.</param>
    /// <param name="cause">Why it is invalid.</param>
    /// <param name="innerException">The parse failure, if any.</param>
    public InvalidEntityIdException(string entityId, string cause, Exception? innerException = null)
        : base(entityId, $"Entity id '{entityId}' is invalid: {cause}", innerException)
    {
    }
}
