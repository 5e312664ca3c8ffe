using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.Tests.Conformance;

/// <summary>The outbox chaos suite over the in-memory stores, lock and outbox.</summary>
public sealed class InMemoryOutboxChaosTests : OutboxChaosTests
{
    // One process-wide provider stands for the shared backend; every "instance" gets the same one.
    private readonly InMemoryMigrationLockProvider _backend = new();

    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(new InMemoryOldStore<LegacyCustomer>());

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(new InMemoryNewStore<Customer>());

    protected override Task<IMigrationOutbox> CreateOutboxAsync() =>
        Task.FromResult<IMigrationOutbox>(new InMemoryOutbox());

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(_backend);
}
