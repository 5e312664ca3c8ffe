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
}
