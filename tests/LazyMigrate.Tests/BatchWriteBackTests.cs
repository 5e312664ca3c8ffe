using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

/// <summary>
/// An old store that writes in batches (<see cref="IBatchWritingOldStore{TOld}"/>) gets a dispatched batch of
/// write-backs in one call for its upserts and one for its deletes; where a batch call fails, each of its entities is
/// written on its own, so that an entity the old store refuses fails alone.
/// </summary>
public sealed class BatchWriteBackTests
{
    [Fact]
    public async Task ABatchOfWriteBacks_IsOneUpsertCallAndOneDeleteCall()
    {
        var shared = new SharedStores();
        var batching = new BatchWritingOldStore<OldCustomer>(shared.Old);
        await using var harness = CreateAsyncHarness(shared, batching, new InMemoryOutbox());
        await SaveAndDeleteAsync(harness, saves: 5, deletes: 2);

        await harness.DrainAsync();

        Assert.Equal(["upsert_many 5", "delete_many 2"], batching.Calls);
        Assert.Equal(5, shared.Old.Count);
        Assert.Equal(MigrationHarness.Legacy(4), shared.Old.Peek(MigrationHarness.Id(4)));
    }

    [Fact]
    public async Task ABatchTheOldStoreRefuses_IsWrittenEntityByEntity_TheRefusedOneFailsAlone()
    {
        var shared = new SharedStores();
        string refused = MigrationHarness.Id(2);
        var batching = new BatchWritingOldStore<OldCustomer>(shared.Old, refused);
        var outbox = new InMemoryOutbox();
        await using var harness = CreateAsyncHarness(shared, batching, outbox);
        await SaveAndDeleteAsync(harness, saves: 4, deletes: 0);

        await harness.DrainAsync();

        Assert.Equal(
            [MigrationHarness.Id(0), MigrationHarness.Id(1), MigrationHarness.Id(3)],
            shared.Old.Snapshot().Keys.Order()
        );
        Assert.Contains("upsert_many 4", batching.Calls);
        Assert.Equal(4, batching.Calls.Count(c => c.StartsWith("upsert ", StringComparison.Ordinal)));
        OutboxItem pending = Assert.Single(outbox.Snapshot());
        Assert.Equal(refused, pending.EntityId);
        Assert.Equal(1, pending.Attempts);
        Assert.Contains($"refuses {refused}", pending.LastError, StringComparison.Ordinal);
    }

    private static MigrationHarness CreateAsyncHarness(
        SharedStores shared,
        IOldStore<OldCustomer> oldStore,
        InMemoryOutbox outbox
    ) =>
        MigrationHarness.Create(
            shared,
            o => o.WriteBackMode = WriteBackMode.Async,
            b => b.UseOldStore(oldStore).UseOutbox(outbox).ConfigureOutbox(o => o.DispatchOnWrite = false)
        );

    private static async Task SaveAndDeleteAsync(MigrationHarness harness, int saves, int deletes)
    {
        for (int n = 0; n < saves; n++)
        {
            await harness.Repository.SaveAsync(MigrationHarness.Id(n), MigrationHarness.Mapped(n));
        }

        for (int n = saves; n < saves + deletes; n++)
        {
            harness.Old.Seed(MigrationHarness.Id(n), MigrationHarness.Legacy(n));
            await harness.Repository.DeleteAsync(MigrationHarness.Id(n));
        }
    }
}
