using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// The lock conformance suite on a DistributedLock provider over a real lock server, watching for loss so that the
/// suite's loss checks see what the provider detects.
/// </summary>
public abstract class DistributedLockConformanceTests(ILockBackend backend) : LockConformanceTests, IAsyncLifetime
{
    protected override async Task<IMigrationLockProvider> CreateProviderAsync() =>
        new DistributedLockMigrationLockProvider(await backend.CreateInstanceAsync(), watchForLoss: true);

    protected override Task LoseAsync(string key, IMigrationLockHandle handle) => backend.LoseAsync(key);

    protected override Task WaitUntilWaitingAsync(string key) => backend.WaitUntilWaitingAsync(key);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => backend.DisposeAsync().AsTask();
}

/// <summary>
/// The repository invariants (docs/design.md) with a DistributedLock lock on a real server between the instances. The
/// stores are the in-memory ones, shared by the instances: the lock is what is under test here (the store adapters have
/// their own runs).
/// </summary>
/// <param name="backend">The lock server.</param>
/// <param name="watchForLoss">Whether the provider watches for lost locks: as a user would choose it for this backend
/// (docs/distributed-lock.md).</param>
public abstract class DistributedLockInvariantTests(ILockBackend backend, bool watchForLoss)
    : RepositoryInvariantTests,
        IAsyncLifetime
{
    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(new InMemoryOldStore<LegacyCustomer>());

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(new InMemoryNewStore<Customer>());

    protected override async Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        new DistributedLockMigrationLockProvider(await backend.CreateInstanceAsync(), watchForLoss);

    protected override Task LoseLockAsync(string key) => backend.LoseAsync(key);

    protected override bool WriteBackNoticesLockLoss => watchForLoss;

    /// <summary>Gets true: a watched DistributedLock lease (Redis) learns of a loss at its next renewal.</summary>
    protected override bool LockLearnsOfLossLate => watchForLoss;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => backend.DisposeAsync().AsTask();
}
