using Medallion.Threading;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// A real lock server seen by the tests: one DistributedLock provider per service instance, and a way to lose a lock.
/// </summary>
public interface ILockBackend : IAsyncDisposable
{
    /// <summary>Creates the provider of another service instance: its own connections to the shared server.</summary>
    Task<IDistributedLockProvider> CreateInstanceAsync();

    /// <summary>
    /// Makes the server itself drop the lock held under <paramref name="key"/>, as a crash or a network fault would.
    /// </summary>
    Task LoseAsync(string key);
}
