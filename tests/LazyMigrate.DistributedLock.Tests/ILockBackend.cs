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

    /// <summary>
    /// Returns once a caller waits for the lock of <paramref name="key"/>, held by another instance: as the server
    /// shows it where it can, otherwise as the instances' providers see it. Bounded: throws when no caller waits in
    /// time.
    /// </summary>
    Task WaitUntilWaitingAsync(string key);
}
