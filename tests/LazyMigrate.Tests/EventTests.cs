using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Snapshooter.Xunit;

namespace LazyMigrate.Tests;

public sealed class EventTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task EntityMigrated_Payload_MatchesSnapshot()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        await harness.Repository.GetAsync(Id);

        await harness.DrainAsync();
        Snapshot.Match(Assert.Single(harness.Events));
    }

    [Fact]
    public void EventId_IsStableForAnEntityAndDistinctAcrossEntities()
    {
        Guid first = EntityMigratedEventId.For("Old->New", "42");

        Assert.Equal(first, EntityMigratedEventId.For("Old->New", "42"));
        Assert.NotEqual(first, EntityMigratedEventId.For("Old->New", "43"));
        Assert.NotEqual(first, EntityMigratedEventId.For("Other->New", "42"));
        Assert.Equal(8, first.ToByteArray(bigEndian: true)[6] >> 4);
    }

    [Fact]
    public async Task PartlyInsertedBatch_WhoseLostIdsCannotBeReadAgain_StillRaisesTheWinnersEvents()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        var saved = new NewCustomer("Saved", "Concurrently", "c1@example.com");
        store.BeforeInsert = () => shared.New.Seed(MigrationHarness.Id(1), saved); // a save wins the race for c1
        store.AfterInsert = () => store.BeforeFind = () => throw new InvalidOperationException("new store went away");
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseNewStore(store)).SeedLegacy(2);

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
        );

        // The event was recorded with the insert; the dispatcher delivers it once the store answers again.
        store.BeforeFind = null;
        await harness.DrainAsync();
        EntityMigrated<OldCustomer, NewCustomer> migrated = Assert.Single(harness.Events);
        Assert.Equal(MigrationHarness.Id(0), migrated.EntityId);
        Assert.Equal(MigrationHarness.Mapped(0), failure.Found[MigrationHarness.Id(0)]);
        var lost = Assert.IsType<MigrationStoreException>(Assert.Single(failure.Failures).Value);
        Assert.Equal(MigrationHarness.Id(1), lost.EntityId);
        Assert.Equal(MigrationHarness.Id(1), failure.EntityId);
        Assert.Equal(saved, shared.New.Peek(MigrationHarness.Id(1)).Value);
    }

    [Fact]
    public async Task PartlyInsertedBatch_ReReadHitsADefect_WinnersEventsRaised_LostIdsFailAsAStoreError()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        store.BeforeInsert = () =>
        {
            // Two saves win the race, so the lost ids are read again in one many-id read, which the broken store
            // answers with null.
            shared.New.Seed(MigrationHarness.Id(1), new NewCustomer("Saved", "One", "c1@example.com"));
            shared.New.Seed(MigrationHarness.Id(2), new NewCustomer("Saved", "Two", "c2@example.com"));
        };
        store.AfterInsert = () => store.FindManyReturnsNull = () => true;
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseNewStore(store)).SeedLegacy(3);

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([
                MigrationHarness.Id(0),
                MigrationHarness.Id(1),
                MigrationHarness.Id(2),
            ])
        );

        await harness.DrainAsync();
        EntityMigrated<OldCustomer, NewCustomer> migrated = Assert.Single(harness.Events);
        Assert.Equal(MigrationHarness.Id(0), migrated.EntityId);
        Assert.Equal(MigrationHarness.Mapped(0), failure.Found[MigrationHarness.Id(0)]);
        Assert.Equal([MigrationHarness.Id(1), MigrationHarness.Id(2)], failure.Failures.Keys.Order());
        var lost = Assert.IsType<MigrationStoreException>(failure.Failures[MigrationHarness.Id(1)]);
        Assert.Equal(MigrationRole.NewStore, lost.Role);
        Assert.Equal("find_many", lost.Operation);
        Assert.IsType<NullReferenceException>(lost.InnerException);
    }

    [Fact]
    public async Task HandlerThrows_ReadSucceeds_MigrationStands_OtherHandlersStillRun()
    {
        var throwing = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        throwing
            .HandleAsync(default!, default)
            .ReturnsForAnyArgs(ValueTask.FromException(new InvalidOperationException("downstream is down")));
        var healthy = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        await using var harness = MigrationHarness
            .Create(configure: b => b.AddHandler(_ => throwing).AddHandler(_ => healthy))
            .SeedLegacy(1);

        NewCustomer? customer = await harness.Repository.GetAsync(Id);

        Assert.Equal(MigrationHarness.Mapped(0), customer);
        Assert.Equal(NewStoreState.Found, harness.New.Peek(Id).State);
        await harness.DrainAsync();
        await throwing.ReceivedWithAnyArgs(1).HandleAsync(default!, default);
        await healthy
            .Received(1)
            .HandleAsync(
                Arg.Is<EntityMigrated<OldCustomer, NewCustomer>>(e => e.EntityId == Id),
                Arg.Any<CancellationToken>()
            );
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task HandlerThrowsSynchronously_ReadStillSucceeds()
    {
        var throwing = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        throwing.HandleAsync(default!, default).ThrowsForAnyArgs(new InvalidOperationException("boom"));
        await using var harness = MigrationHarness.Create(configure: b => b.AddHandler(_ => throwing)).SeedLegacy(1);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task HandlersRegisteredDirectlyInDI_AreCalled()
    {
        var handler = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        await using var harness = MigrationHarness
            .Create(configure: b => b.Services.AddSingleton(handler))
            .SeedLegacy(1);

        await harness.Repository.GetAsync(Id);
        await harness.DrainAsync();

        await handler
            .Received(1)
            .HandleAsync(
                Arg.Is<EntityMigrated<OldCustomer, NewCustomer>>(e =>
                    e.NewValue == MigrationHarness.Mapped(0) && e.OldValue == MigrationHarness.Legacy(0)
                ),
                Arg.Any<CancellationToken>()
            );
    }

    [Fact]
    public async Task LostInsert_RaisesNoEvent()
    {
        // The new store is empty when the migration re-reads it under the lock; a concurrent save then lands between
        // that re-read and the insert, so the insert really loses.
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        var saved = new NewCustomer("Saved", "Concurrently", "c0@example.com");
        int inserts = 0;
        store.BeforeInsert = () =>
        {
            inserts++;
            shared.New.Seed(Id, saved);
        };
        await using var harness = MigrationHarness
            .Create(shared, options: o => o.UseLock = false, configure: b => b.UseNewStore(store))
            .SeedLegacy(1);

        MigrationOutcome outcome = await harness.Repository.MigrateAsync(Id);

        Assert.Equal(1, inserts); // the insert was attempted, and lost
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
        Assert.NotEqual(MigrationOutcome.Migrated, outcome);
        Assert.Equal(saved, shared.New.Peek(Id).Value);
        Assert.Equal(saved, await harness.Repository.GetAsync(Id));
    }
}
