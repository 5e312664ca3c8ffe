namespace LazyMigrate;

/// <summary>A held lock; disposing it releases the lock.</summary>
public interface IMigrationLockHandle : IAsyncDisposable
{
    /// <summary>
    /// Gets a token that is cancelled when the lock is known to be lost (for example its connection died), or
    /// <see cref="CancellationToken.None"/> when the provider cannot tell.
    /// </summary>
    CancellationToken HandleLostToken { get; }
}
