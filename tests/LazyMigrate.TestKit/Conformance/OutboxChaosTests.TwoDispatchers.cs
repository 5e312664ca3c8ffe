using LazyMigrate.Outbox;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Two dispatchers on two instances share one outbox (docs/write-back.md, "Several instances"): while one is held inside
/// the old-store write of an entity, the other drains everything else and never enters a write of that entity; once
/// the first goes on, every item has been applied, each once.
/// </summary>
public abstract partial class OutboxChaosTests
{
    [Fact]
    public async Task TwoDispatchers_OneHeldInsideAnOldStoreWrite_TheOtherNeverWritesThatEntity_EveryItemAppliedOnce()
    {
        const int Entities = 20;
        var time = new FakeTimeProvider(T0);
        IOldStore<LegacyCustomer> old = await CreateSeededOldStoreAsync(Entities);
        var log = new WriteOrderLog();
        var ordered = new OrderCheckingOldStore<LegacyCustomer>(old, log, c => c.Version);
        var heldStore = new WriteGatedOldStore<LegacyCustomer>(ordered);
        var otherStore = new WriteGatedOldStore<LegacyCustomer>(ordered);
        IMigrationOutbox outbox = await CreateOutboxAsync();
        INewStore<Customer> neu = await CreateNewStoreAsync();
        await using var heldInstance = await CreateInstanceAsync(heldStore, neu, outbox, time, o => o.BatchSize = 5);
        await using var otherInstance = await CreateInstanceAsync(otherStore, neu, outbox, time, o => o.BatchSize = 5);
        string[] ids = [.. Enumerable.Range(0, Entities).Select(Id)];
        var repository = Repository(heldInstance);
        foreach (string id in ids)
        {
            log.Saving(id, 2000);
            await repository.SaveAsync(id, Customer.Create(id, 2000));
        }

        PauseGate held = heldStore.HoldNextWrite();
        Task<int> heldDrain = Dispatcher(heldInstance).DrainAsync().AsTask();
        await held.Reached.WaitAsync(Patience); // inside the old-store write of one entity: its lock and lease held
        string heldId = heldStore.HeldId!;
        int otherClaimed = await Dispatcher(otherInstance).DrainAsync().AsTask().WaitAsync(Patience);

        Assert.False(heldDrain.IsCompleted, "the held dispatcher's drain ended while its write was held");
        Assert.Equal(0, otherStore.EnteredFor(heldId));
        Assert.Equal(Entities - 5, otherClaimed); // everything but the held dispatcher's batch of 5
        Assert.Equal(Entities - 5, otherStore.Entered.Values.Sum());
        held.Release();
        Assert.Equal(5, await heldDrain.WaitAsync(Patience));

        await AssertStoresAgreeAsync(old, neu, ids);
        Assert.Empty((await StatisticsAsync(otherInstance)).Pending);
        Assert.All(ids, id => Assert.Equal(1, ordered.Writes.GetValueOrDefault(id)));
        Assert.All(ids, id => Assert.Equal(1, heldStore.EnteredFor(id) + otherStore.EnteredFor(id)));
        Assert.True(ordered.Violations.Count == 0, string.Join("; ", ordered.Violations));
    }
}
