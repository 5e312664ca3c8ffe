using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.Tests;

/// <summary>
/// The lock suites' exclusion check (<see cref="Contenders"/>) catches a lock that excludes no one, and makes the
/// contention it checks certain with a lock that works.
/// </summary>
public sealed class ContendersTests
{
    private const string Key = "lazymigrate:contenders";

    [Fact]
    public async Task RunAsync_OnALockThatGrantsEveryone_CountsOverlaps()
    {
        var broken = new GrantEveryoneLockProvider();

        var (overlaps, acquisitions, contended) = await Contenders.RunAsync(
            6,
            5,
            async (_, wait) => await broken.TryAcquireAsync(Key, wait)
        );

        Assert.NotEqual(0, overlaps);
        Assert.Equal(30, acquisitions);
        Assert.Equal(0, contended);
    }

    [Fact]
    public async Task RunAsync_OnAWorkingLock_CountsNoOverlap_AndHoldsTheLockUntilAnotherWorkerWaits()
    {
        var working = new InMemoryMigrationLockProvider();

        var (overlaps, acquisitions, contended) = await Contenders.RunAsync(
            6,
            5,
            async (_, wait) => await working.TryAcquireAsync(Key, wait)
        );

        Assert.Equal(0, overlaps);
        Assert.Equal(30, acquisitions);
        // Only the last holds, once no other worker has rounds left, go without a waiter: at least the first 25.
        Assert.InRange(contended, 25, 30);
    }
}
