using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

public sealed class UnstorableEntityTests
{
    private static readonly string Id = MigrationHarness.Id(3);

    [Fact]
    public async Task SaveAsync_AnEntityTheNewStoreCannotHold_SurfacesItsExceptionUnchanged_AndWritesNothing()
    {
        var shared = new SharedStores();
        var store = new UnstorableNewStore<NewCustomer>(shared.New, Id);
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseNewStore(store)).SeedLegacy(5);

        var failure = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(103))
        );
        await harness.DrainAsync();

        Assert.Equal(Id, failure.EntityId);
        Assert.Contains(Id, failure.Message, StringComparison.Ordinal);
        Assert.Contains("NUL character", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("First103", failure.Message, StringComparison.Ordinal);
        Assert.Equal(NewStoreState.Missing, shared.New.Peek(Id).State);
        Assert.Equal(MigrationHarness.Legacy(3), shared.Old.Peek(Id));
    }

    [Fact]
    public async Task SaveAsync_AnEntityTheNewStoreCannotHold_IsNotRetried_EvenWhenItWrapsATransientFailure()
    {
        var shared = new SharedStores();
        var store = new UnstorableNewStore<NewCustomer>(shared.New, Id) { Cause = new TimeoutException("slow") };
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseNewStore(store));

        var failure = await Assert.ThrowsAsync<UnstorableEntityException>(async () =>
            await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(103))
        );

        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.Equal(1, store.Writes);
    }

    [Fact]
    public async Task ASyncSave_WhoseWriteBackTheOldStoreCannotHold_FailsAsAWriteBackFailure_TheNewStoreKeepingTheSave()
    {
        var shared = new SharedStores();
        var old = new HookedOldStore<OldCustomer>(shared.Old)
        {
            BeforeUpsert = id => throw new UnstorableEntityException(id, "a string in it holds a NUL character."),
        };
        await using var harness = MigrationHarness
            .Create(shared, o => o.WriteBackMode = WriteBackMode.Sync, b => b.UseOldStore(old))
            .SeedLegacy(5);

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(103))
        );

        Assert.Equal((MigrationRole.OldStore, Id), (failure.Role, failure.EntityId));
        Assert.IsType<UnstorableEntityException>(failure.InnerException);
        Assert.Equal(MigrationHarness.Mapped(103), shared.New.Peek(Id).Value);
        Assert.Equal(MigrationHarness.Legacy(3), shared.Old.Peek(Id));
        Assert.Equal(1, (await harness.Dispatcher.GetStatisticsAsync()).Pending[OutboxItemKind.WriteBack]);
    }
}
