namespace LazyMigrate;

/// <summary>
/// A store failure that may succeed when tried again. Adapters throw it (or a <see
/// cref="System.Data.Common.DbException"/>
/// whose <c>IsTransient</c> is true) so that the default resilience pipeline retries it.
/// </summary>
public sealed class TransientStoreException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TransientStoreException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, if any.</param>
    public TransientStoreException(string message, Exception? innerException = null)
        : base(message, innerException) { }
}
