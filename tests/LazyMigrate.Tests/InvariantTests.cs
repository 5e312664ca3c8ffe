using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

/// <summary>
/// The library's invariants (docs/design.md) no lost update, no resurrection, bad input is loud and lock loss is safe,
/// on the in-memory adapters, with gates instead of timing.
/// </summary>
public sealed class InvariantTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task Migration_PausedAfterOldRead_DoesNotOverwriteAConcurrentSave()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        var saved = new NewCustomer("Saved", "Meanwhile", "saved@example.com");

        Task<NewCustomer?> migrating = harness.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        await harness.Repository.SaveAsync(Id, saved);
        gated.Release();

        Assert.Equal(saved, await migrating);
        Assert.Equal(saved, await harness.Repository.GetAsync(Id));
        Assert.Equal(saved, harness.New.Peek(Id).Value);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }

    [Fact]
    public async Task Delete_ThenEveryKindOfRead_StaysDeleted()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.Create(shared).SeedLegacy(1);
        await using var otherInstance = MigrationHarness.Create(shared);

        await harness.Repository.DeleteAsync(Id);

        Assert.Null(await harness.Repository.GetAsync(Id));
        Assert.Equal(MigrationOutcome.Deleted, await harness.Repository.MigrateAsync(Id));
        Assert.Null(await otherInstance.Repository.GetAsync(Id));
        Assert.Empty(await otherInstance.Repository.GetManyAsync([Id]));
        Assert.Equal(NewStoreState.Deleted, shared.New.Peek(Id).State);
        Assert.NotNull(shared.Old.Peek(Id)); // write-back is off here: the old store keeps its record
        await shared.DrainAsync();
        Assert.Empty(shared.AllEvents);
    }

    [Fact]
    public async Task Migration_PausedAfterOldRead_DoesNotResurrectAConcurrentDelete()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);

        Task<NewCustomer?> migrating = harness.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        await harness.Repository.DeleteAsync(Id);
        gated.Release();

        Assert.Null(await migrating);
        Assert.Null(await harness.Repository.GetAsync(Id));
        Assert.Equal(NewStoreState.Deleted, harness.New.Peek(Id).State);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }

    [Fact]
    public async Task MapperThrows_TypedExceptionNamesTheId_NothingWritten_LaterReadMigrates()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);
        harness.Mapper.FailWhen = _ => true;

        var failure = await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Contains(Id, failure.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(failure.InnerException);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
        Assert.False(harness.Shared.Lock.IsHeld(MigrationHarness.LockKey(Id)));

        harness.Mapper.FailWhen = _ => false;

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task MapperThrowsForOneIdOfABatch_OthersMigrate_ThatIdFailsAlone()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(3);
        harness.Mapper.FailWhen = old => old == MigrationHarness.Legacy(1);

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([
                MigrationHarness.Id(0),
                MigrationHarness.Id(1),
                MigrationHarness.Id(2),
            ])
        );

        var mapping = Assert.IsType<MigrationMappingException>(Assert.Single(failure.Failures).Value);
        Assert.Equal(MigrationHarness.Id(1), mapping.EntityId);
        Assert.Equal(NewStoreState.Found, harness.New.Peek(MigrationHarness.Id(0)).State);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(MigrationHarness.Id(1)).State);
        Assert.Equal(NewStoreState.Found, harness.New.Peek(MigrationHarness.Id(2)).State);
        await harness.DrainAsync();
        Assert.Equal(2, harness.Events.Count);
    }

    [Fact]
    public async Task MapperReturnsNull_IsAMappingFailure()
    {
        await using var harness = MigrationHarness.Create(configure: b => b.UseMapper(_ => null!)).SeedLegacy(1);

        var failure = await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Contains("returned null", failure.Message, StringComparison.Ordinal);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
    }

    [Fact]
    public async Task LockLostMidMigration_AnotherInstanceMigrates_StillOneRowAndOneEvent()
    {
        var shared = new SharedStores();
        await using var first = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared);
        string key = MigrationHarness.LockKey(Id);

        Task<NewCustomer?> firstRead = first.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        Assert.True(shared.Lock.Expire(key));
        NewCustomer? secondValue = await second.Repository.GetAsync(Id);
        gated.Release();
        NewCustomer? firstValue = await firstRead;

        Assert.Equal(MigrationHarness.Mapped(0), secondValue);
        Assert.Equal(secondValue, firstValue);
        Assert.Equal(1, shared.New.InsertCount);
        await shared.DrainAsync();
        Assert.Single(shared.AllEvents);
        await second.DrainAsync();
        Assert.Single(second.Events);
        Assert.False(shared.Lock.IsHeld(key));
    }

    [Fact]
    public async Task LockHeldElsewhere_PastTheTimeout_ThrowsLockTimeoutNamingTheId()
    {
        await using var harness = MigrationHarness.Create(options: o => o.LockTimeout = TimeSpan.Zero).SeedLegacy(1);
        string key = MigrationHarness.LockKey(Id);
        await using IMigrationLockHandle? held = await harness.Shared.Lock.TryAcquireAsync(key, TimeSpan.Zero);

        var failure = await Assert.ThrowsAsync<MigrationLockTimeoutException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(0, harness.Old.ReadCount);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
    }

    [Fact]
    public async Task WithoutLock_InsertIfAbsentAloneStillGivesOneRowAndOneEvent()
    {
        var shared = new SharedStores();
        await using var first = MigrationHarness
            .CreatePausingOldReads(shared, out var gated, o => o.UseLock = false)
            .SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared, o => o.UseLock = false);

        Task<NewCustomer?> firstRead = first.Repository.GetAsync(Id).AsTask();
        await gated.Read;
        NewCustomer? secondValue = await second.Repository.GetAsync(Id);
        gated.Release();

        Assert.Equal(secondValue, await firstRead);
        Assert.Equal(1, shared.New.InsertCount);
        await shared.DrainAsync();
        Assert.Single(shared.AllEvents);
        Assert.Equal(0, shared.Lock.AcquireCount);
    }
}
