using LazyMigrate.Outbox;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Two dispatchers on two instances share one outbox (docs/write-back.md, "The dispatcher"): while one is held
/// inside the old-store write of an entity, the other drains everything else and never enters a write of that entity;
/// once the first goes on, every item has been applied, each once.
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

        // A dispatcher that tried an entity the other holds gives up soon: a claim that let two dispatchers have one
        // item fails the test instead of hanging it.
        TimeSpan lockTimeout = TimeSpan.FromMilliseconds(500);
        await using var heldInstance = await CreateInstanceAsync(heldStore, neu, outbox, time, Batch5, lockTimeout);
        await using var otherInstance = await CreateInstanceAsync(otherStore, neu, outbox, time, Batch5, lockTimeout);
        string[] ids = [.. Enumerable.Range(0, Entities).Select(Id)];
        var repository = Repository(heldInstance);
        foreach (string id in ids)
        {
            log.Saving(id, 2000);
            await repository.SaveAsync(id, Customer.Create(id, 2000));
        }

        PauseGate held = heldStore.HoldNextWrite();
        Task<int> heldBatch = Dispatcher(heldInstance).RunOnceAsync().AsTask();
        await held.Reached.WaitAsync(Patience); // inside the old-store write of one entity: its lock and lease held
        string heldId = heldStore.HeldId!;
        int otherClaimed = await RunBatchesAsync(Dispatcher(otherInstance), Entities / 5);

        Assert.False(heldBatch.IsCompleted, "the held dispatcher's batch ended while its write was held");
        Assert.Equal(0, otherStore.EnteredFor(heldId));
        Assert.Equal(Entities - 5, otherClaimed); // everything but the held dispatcher's batch of 5
        Assert.Equal(Entities - 5, otherStore.Entered.Values.Sum());
        held.Release();
        Assert.Equal(5, await heldBatch.WaitAsync(Patience));
        Assert.Equal(0, await RunBatchesAsync(Dispatcher(heldInstance), 1)); // nothing left for anyone

        await AssertStoresAgreeAsync(old, neu, ids);
        Assert.Empty((await StatisticsAsync(otherInstance)).Pending);
        Assert.All(ids, id => Assert.Equal(1, ordered.Writes.GetValueOrDefault(id)));
        Assert.All(ids, id => Assert.Equal(1, heldStore.EnteredFor(id) + otherStore.EnteredFor(id)));
        Assert.True(ordered.Violations.Count == 0, string.Join("; ", ordered.Violations));
    }

    private static void Batch5(OutboxOptions options) => options.BatchSize = 5;

    /// <summary>
    /// Runs batches until one claims nothing, at most <paramref name="most"/> of them (a drain would go on for ever if
    /// the outbox handed out leased items); returns how many items they claimed.
    /// </summary>
    private static async Task<int> RunBatchesAsync(IMigrationDispatcher<LegacyCustomer, Customer> dispatcher, int most)
    {
        int claimed = 0;
        for (int batch = 0; batch < most; batch++)
        {
            int items = await dispatcher.RunOnceAsync().AsTask().WaitAsync(Patience);
            if (items == 0)
            {
                break;
            }

            claimed += items;
        }

        return claimed;
    }
}
