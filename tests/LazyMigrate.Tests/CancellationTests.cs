using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

public sealed class CancellationTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task OneCallerCancels_SharedMigrationGoesOnForTheOthers()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        using var impatient = new CancellationTokenSource();

        Task<NewCustomer?> first = harness.Repository.GetAsync(Id, impatient.Token).AsTask();
        await gated.Read;
        Task<NewCustomer?> second = harness.Repository.GetAsync(Id).AsTask();
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(second.IsCompleted);
        gated.Release();
        Assert.Equal(MigrationHarness.Mapped(0), await second);
        Assert.Equal(0, gated.CancelledReads);
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task EveryCallerCancels_SharedMigrationIsCancelled_NextReadStartsAfresh()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        using var cancel = new CancellationTokenSource();

        Task<NewCustomer?> first = harness.Repository.GetAsync(Id, cancel.Token).AsTask();
        await gated.Read;
        Task<NewCustomer?> second = harness.Repository.GetAsync(Id, cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        await gated.Cancelled.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);

        gated.Release();
        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        Assert.Equal(1, gated.CancelledReads);
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task AlreadyCancelledToken_FailsFast()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await harness.Repository.GetAsync(Id, new CancellationToken(canceled: true))
        );
        Assert.Equal(0, harness.Old.ReadCount);
    }
}
