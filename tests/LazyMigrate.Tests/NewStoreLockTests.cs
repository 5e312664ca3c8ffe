using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace LazyMigrate.Tests;

/// <summary>UseNewStoreLock: the new store locks its own entities, in the calls that re-read and insert.</summary>
public sealed class NewStoreLockTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    private static Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>> StoreLock(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? more = null
    ) =>
        b =>
        {
            b.UseNewStoreLock();
            more?.Invoke(b);
        };

    [Fact]
    public async Task Migrates_WithoutTouchingTheLockProvider()
    {
        await using var harness = MigrationHarness.Create(configure: StoreLock()).SeedLegacy(1);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        Assert.Equal(0, harness.Shared.Lock.AcquireCount);
        Assert.Equal(1, harness.New.InsertCount);
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task AStoreLockThatReadTheOldStoreAlong_SavesTheMigrationItsOwnOldRead()
    {
        var shared = new SharedStores();
        var readAlong = new ReadAlongNewStore(shared.New, shared.Old);
        await using var harness = MigrationHarness
            .Create(
                shared,
                options: o => o.WriteBackMode = WriteBackMode.Sync,
                configure: StoreLock(b => b.UseNewStore(readAlong))
            )
            .SeedLegacy(3);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        IReadOnlyDictionary<string, NewCustomer> many = await harness.Repository.GetManyAsync([
            MigrationHarness.Id(1),
            MigrationHarness.Id(2),
            "nowhere",
        ]);

        Assert.Equal(0, harness.Old.ReadCount);
        Assert.Equal(2, readAlong.ReadAlongCount);
        Assert.Equal(MigrationHarness.Mapped(2), many[MigrationHarness.Id(2)]);
        Assert.Equal(2, many.Count);
        Assert.Equal(3, harness.New.InsertCount);
        await harness.DrainAsync();
        Assert.Equal(3, harness.Events.Count);

        // A write-back takes the same store lock, and reads nothing of the old store with it.
        await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(7));
        Assert.Equal(2, readAlong.ReadAlongCount);
        Assert.Equal(MigrationHarness.Legacy(7), harness.Old.Peek(Id));
    }

    [Fact]
    public async Task TwoInstances_OnePausedHoldingTheStoreLock_SecondWaitsAndFindsItMigrated()
    {
        var shared = new SharedStores();
        var gated = new TestKit.GatedOldStore<OldCustomer>(shared.Old);
        await using var first = MigrationHarness
            .Create(shared, configure: StoreLock(b => b.UseOldStore(gated)))
            .SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared, configure: StoreLock());

        Task<NewCustomer?> firstRead = first.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        Task<NewCustomer?> secondRead = second.Repository.GetAsync(Id).AsTask();
        Assert.False(secondRead.IsCompleted);
        gated.Release();

        Assert.Equal(MigrationHarness.Mapped(0), await firstRead);
        Assert.Equal(MigrationHarness.Mapped(0), await secondRead);
        Assert.Equal(1, shared.Old.ReadCount);
        Assert.Equal(1, shared.New.InsertCount);
        await shared.DrainAsync();
        Assert.Single(shared.AllEvents);
    }

    [Fact]
    public async Task StoreLockHeldElsewhere_PastTheTimeout_ThrowsLockTimeoutNamingTheId()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.LockTimeout = TimeSpan.Zero, configure: StoreLock())
            .SeedLegacy(1);
        await using INewStoreLock<NewCustomer>? held = await harness.New.TryLockAsync([Id], TimeSpan.Zero);

        var failure = await Assert.ThrowsAsync<MigrationLockTimeoutException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(0, harness.Old.ReadCount);
    }

    [Fact]
    public async Task PausedMigration_DoesNotOverwriteAConcurrentSave()
    {
        var shared = new SharedStores();
        var gated = new TestKit.GatedOldStore<OldCustomer>(shared.Old);
        await using var harness = MigrationHarness
            .Create(shared, configure: StoreLock(b => b.UseOldStore(gated)))
            .SeedLegacy(1);
        var saved = new NewCustomer("Saved", "Meanwhile", "saved@example.com");

        Task<NewCustomer?> migrating = harness.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        await harness.Repository.SaveAsync(Id, saved);
        gated.Release();

        Assert.Equal(saved, await migrating);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }

    [Fact]
    public async Task SyncWriteBack_WaitsForTheStoreLock()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync, configure: StoreLock())
            .SeedLegacy(1);
        INewStoreLock<NewCustomer>? held = await harness.New.TryLockAsync([Id], TimeSpan.Zero);

        Task saving = harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(5)).AsTask();

        Assert.False(saving.IsCompleted);
        await held!.DisposeAsync();
        await saving;
        Assert.Equal(MigrationHarness.Legacy(5), harness.Old.Peek(Id));
    }

    [Fact]
    public void ANewStoreThatCannotLock_FailsValidationWhenTheRepositoryIsBuilt()
    {
        var plain = Substitute.For<INewStore<NewCustomer>>();
        var services = new ServiceCollection();
        services
            .AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(new InMemory.InMemoryOldStore<OldCustomer>())
            .UseNewStore(plain)
            .UseNewStoreLock();
        using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
        );

        Assert.Contains(failure.Failures, f => f.Contains("ILockingNewStore", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UseLockAfterUseNewStoreLock_TheProviderWins()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness
            .Create(shared, configure: b => b.UseNewStoreLock().UseInMemoryLock(shared.Lock))
            .SeedLegacy(1);

        await harness.Repository.GetAsync(Id);

        Assert.Equal(1, shared.Lock.AcquireCount);
    }

    [Fact]
    public async Task InsertAndUnlock_FailingTransiently_IsNotRetried_AndSurfacesTyped()
    {
        var storeLock = Substitute.For<INewStoreLock<NewCustomer>>();
        storeLock.Current.Returns(new Dictionary<string, NewStoreRead<NewCustomer>>());
        storeLock
            .InsertManyIfAbsentAndReleaseAsync(default!, default)
            .ReturnsForAnyArgs(
                ValueTask.FromException<IReadOnlyCollection<string>>(
                    new TransientStoreException("connection reset during commit")
                )
            );
        var store = Substitute.For<ILockingNewStore<NewCustomer>>();
        store
            .FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(new ValueTask<NewStoreRead<NewCustomer>>(NewStoreRead<NewCustomer>.Missing));
        store
            .TryLockAndReadOldAsync<OldCustomer>(default!, default, default!, default)
            .ReturnsForAnyArgs(new ValueTask<INewStoreLock<NewCustomer>?>(storeLock));
        await using var harness = MigrationHarness
            .Create(configure: StoreLock(b => b.UseNewStore(store)))
            .SeedLegacy(1);

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Equal(MigrationRole.NewStore, failure.Role);
        await storeLock.ReceivedWithAnyArgs(1).InsertManyIfAbsentAndReleaseAsync(default!, default);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }
}
