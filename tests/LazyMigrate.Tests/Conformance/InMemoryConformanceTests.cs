using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.Tests.Conformance;

/// <summary>The in-memory adapters against the same conformance suites as every real adapter.</summary>
public sealed class InMemoryNewStoreConformanceTests : NewStoreConformanceTests<Customer>
{
    public override Customer Create(string id, int version) => Customer.Create(id, version);

    public override int VersionOf(Customer entity) => entity.Version;

    protected override Task<INewStore<Customer>> CreateStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(new InMemoryNewStore<Customer>());
}

public sealed class InMemoryNewStoreLockConformanceTests : NewStoreLockConformanceTests<Customer>
{
    public override Customer Create(string id, int version) => Customer.Create(id, version);

    public override int VersionOf(Customer entity) => entity.Version;

    protected override Task<ILockingNewStore<Customer>> CreateStoreAsync() =>
        Task.FromResult<ILockingNewStore<Customer>>(new InMemoryNewStore<Customer>());

    protected override Task WaitUntilWaitingAsync(ILockingNewStore<Customer> store, string id) =>
        Eventually.TrueAsync(() => ((InMemoryNewStore<Customer>)store).LockWaiterCount(id) > 0);
}

public sealed class InMemoryOldStoreConformanceTests : OldStoreConformanceTests<LegacyCustomer>
{
    public override LegacyCustomer Create(string id, int version) => LegacyCustomer.Create(id, version);

    public override int VersionOf(LegacyCustomer entity) => entity.Version;

    protected override Task<IOldStore<LegacyCustomer>> CreateStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(new InMemoryOldStore<LegacyCustomer>());
}

public sealed class InMemoryLockConformanceTests : BatchLockConformanceTests
{
    // One process-wide provider stands for the shared backend; every "instance" gets the same one.
    private readonly InMemoryMigrationLockProvider _backend = new();

    protected override Task<IMigrationBatchLockProvider> CreateBatchProviderAsync() =>
        Task.FromResult<IMigrationBatchLockProvider>(_backend);

    protected override Task LoseAsync(string key, IMigrationLockHandle handle)
    {
        Assert.True(_backend.Expire(key));
        return Task.CompletedTask;
    }

    protected override Task WaitUntilWaitingAsync(string key) =>
        Eventually.TrueAsync(() => _backend.WaiterCount(key) > 0);
}

public sealed partial class InMemoryRepositoryInvariantTests : RepositoryInvariantTests
{
    private readonly InMemoryMigrationLockProvider _backend = new();

    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(new InMemoryOldStore<LegacyCustomer>());

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(new InMemoryNewStore<Customer>());

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(_backend);

    protected override Task LoseLockAsync(string key)
    {
        Assert.True(_backend.Expire(key));
        return Task.CompletedTask;
    }
}
