using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

public sealed class ReadPathTests
{
    [Fact]
    public async Task GetAsync_MissingInNewStore_MigratesFromOldStore()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        NewCustomer? customer = await harness.Repository.GetAsync(MigrationHarness.Id(0));

        Assert.Equal(MigrationHarness.Mapped(0), customer);
        Assert.Equal(MigrationHarness.Mapped(0), harness.New.Peek(MigrationHarness.Id(0)).Value);
        await harness.DrainAsync();
        var migrated = Assert.Single(harness.Events);
        Assert.Equal(MigrationHarness.Id(0), migrated.EntityId);
        Assert.Equal(MigrationTrigger.OnDemand, migrated.Trigger);
    }

    [Fact]
    public async Task GetAsync_AlreadyInNewStore_NeverTouchesOldStoreOrLock()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);
        harness.New.Seed(MigrationHarness.Id(0), MigrationHarness.Mapped(7));

        NewCustomer? customer = await harness.Repository.GetAsync(MigrationHarness.Id(0));

        Assert.Equal(MigrationHarness.Mapped(7), customer);
        Assert.Equal(0, harness.Old.ReadCount);
        Assert.Equal(0, harness.Shared.Lock.AcquireCount);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }

    [Fact]
    public async Task GetAsync_SecondRead_IsServedByNewStore()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        await harness.Repository.GetAsync(MigrationHarness.Id(0));
        NewCustomer? again = await harness.Repository.GetAsync(MigrationHarness.Id(0));

        Assert.Equal(MigrationHarness.Mapped(0), again);
        Assert.Equal(1, harness.Old.ReadCount);
        Assert.Equal(1, harness.Mapper.MapCount);
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task GetAsync_AbsentFromBothStores_ReturnsNullAndWritesNothing()
    {
        await using var harness = MigrationHarness.Create();

        Assert.Null(await harness.Repository.GetAsync("nobody"));
        Assert.Equal(NewStoreState.Missing, harness.New.Peek("nobody").State);
        await harness.DrainAsync();
        Assert.Empty(harness.Events);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task GetAsync_NullOrEmptyId_ThrowsArgumentException(string? id)
    {
        await using var harness = MigrationHarness.Create();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await harness.Repository.GetAsync(id!));
    }

    [Fact]
    public async Task MigrateAsync_ReportsEachOutcome()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(3);
        await harness.Repository.DeleteAsync(MigrationHarness.Id(2));

        Assert.Equal(MigrationOutcome.Migrated, await harness.Repository.MigrateAsync(MigrationHarness.Id(0)));
        Assert.Equal(MigrationOutcome.AlreadyMigrated, await harness.Repository.MigrateAsync(MigrationHarness.Id(0)));
        Assert.Equal(MigrationOutcome.Absent, await harness.Repository.MigrateAsync("nobody"));
        Assert.Equal(MigrationOutcome.Deleted, await harness.Repository.MigrateAsync(MigrationHarness.Id(2)));
        await harness.DrainAsync();
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task GetManyAsync_MixedIds_MakesOneBatchedCallPerStore()
    {
        var shared = new SharedStores();
        var counting = new CountingNewStore<NewCustomer>(shared.New);
        await using var harness = MigrationHarness
            .Create(shared, configure: b => b.UseNewStore(counting))
            .SeedLegacy(20);
        for (int n = 0; n < 5; n++)
        {
            shared.New.Seed(MigrationHarness.Id(n), MigrationHarness.Mapped(n));
        }

        await harness.Repository.DeleteAsync(MigrationHarness.Id(5));
        string[] ids = [.. Enumerable.Range(0, 20).Select(MigrationHarness.Id), "nobody", MigrationHarness.Id(0)];

        IReadOnlyDictionary<string, NewCustomer> found = await harness.Repository.GetManyAsync(ids);

        Assert.Equal(19, found.Count);
        Assert.DoesNotContain(MigrationHarness.Id(5), found.Keys);
        Assert.Equal(MigrationHarness.Mapped(13), found[MigrationHarness.Id(13)]);
        Assert.Equal(1, harness.Old.ReadCount);
        Assert.Equal(0, counting.FindCalls);
        Assert.Equal(2, counting.FindManyCalls); // the read, then the re-check under the locks
        Assert.Equal(1, counting.InsertManyCalls);
        await harness.DrainAsync();
        Assert.Equal(14, harness.Events.Count);
    }

    [Fact]
    public async Task GetManyAsync_NoIds_ReturnsEmptyWithoutStoreCalls()
    {
        await using var harness = MigrationHarness.Create();

        Assert.Empty(await harness.Repository.GetManyAsync([]));
        Assert.Equal(0, harness.Old.ReadCount);
    }
}
