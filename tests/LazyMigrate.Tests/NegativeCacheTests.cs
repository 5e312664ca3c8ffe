using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

public sealed class NegativeCacheTests
{
    private static MigrationHarness Create() =>
        MigrationHarness.Create(configure: b => b.UseNegativeCache(TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task AbsentId_ReadAgainWithinTheDuration_DoesNotReachTheOldStore()
    {
        await using var harness = Create();

        for (int i = 0; i < 100; i++)
        {
            Assert.Null(await harness.Repository.GetAsync("nobody"));
        }

        Assert.Equal(1, harness.Old.ReadCount);
    }

    [Fact]
    public async Task AbsentId_AfterTheDuration_IsLookedUpAgain()
    {
        await using var harness = Create();
        await harness.Repository.GetAsync("late");
        harness.Old.Seed("late", MigrationHarness.Legacy(4));

        harness.Shared.Time.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(MigrationHarness.Mapped(4), await harness.Repository.GetAsync("late"));
        Assert.Equal(2, harness.Old.ReadCount);
    }

    [Fact]
    public async Task AbsentId_ThenSaved_IsSeenAtOnce()
    {
        await using var harness = Create();
        await harness.Repository.GetAsync("fresh");

        await harness.Repository.SaveAsync("fresh", MigrationHarness.Mapped(5));

        Assert.Equal(MigrationHarness.Mapped(5), await harness.Repository.GetAsync("fresh"));
        Assert.Equal(MigrationHarness.Mapped(5), (await harness.Repository.GetManyAsync(["fresh"]))["fresh"]);
    }

    [Fact]
    public async Task Off_ByDefault_EveryMissReachesTheOldStore()
    {
        await using var harness = MigrationHarness.Create();

        await harness.Repository.GetAsync("nobody");
        await harness.Repository.GetAsync("nobody");

        Assert.Equal(2, harness.Old.ReadCount);
    }
}
