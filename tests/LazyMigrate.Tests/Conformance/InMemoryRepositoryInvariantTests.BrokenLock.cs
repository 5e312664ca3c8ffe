using LazyMigrate.TestKit;

namespace LazyMigrate.Tests.Conformance;

/// <summary>
/// Meta-tests of the invariant suite: its checks of what a lock buys fail for a lock that excludes no one.
/// </summary>
public sealed partial class InMemoryRepositoryInvariantTests
{
    [Fact]
    public async Task LockThatGrantsEveryone_FailsTheSuitesLockContentionCheck_TwoMapperCalls()
    {
        LockContention contention = await RunLockContentionAsync(new GrantEveryoneLockProvider());

        // The suite's test asserts the second found the lock held and one mapper call: both fail here.
        Assert.False(contention.SecondFoundTheLockHeld);
        Assert.Equal(2, contention.MapCalls);
        Assert.Equal(1, contention.Inserted); // insert-if-absent alone keeps one row and one event
        Assert.Equal(1, contention.Events);
        Assert.Equal([0, 0], contention.Versions);
    }

    [Fact]
    public async Task LockThatGrantsEveryone_FailsTheSuitesBatchContentionCheck_MoreThanOneMapperCallPerId()
    {
        BatchContention contention = await RunBatchContentionAsync(new GrantEveryoneLockProvider());

        // The suite's test asserts the contenders found the locks held and one mapper call per id: both fail here.
        Assert.False(contention.BothFoundTheLocksHeld);
        Assert.All(contention.MapCalls, calls => Assert.True(calls > 1, $"{calls} mapper call(s)"));
        Assert.Equal(ContendedBatchSize, contention.Inserted); // insert-if-absent alone keeps one row and one event
        Assert.Equal(ContendedBatchSize, contention.Events);
        Assert.All(contention.Wrong, wrong => Assert.Equal(0, wrong));
    }
}
