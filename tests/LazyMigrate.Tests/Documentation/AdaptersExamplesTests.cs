using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/adapters.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class AdaptersExamplesTests
{
    [Fact]
    public async Task LockProvider_IsAcquiredAndReleasedByDisposingItsHandle()
    {
        var locks = new InMemoryMigrationLockProvider();
        IMigrationLockProvider provider = locks;
        string key = MigrationLockKeys.For("LegacyCustomer->Customer", "c1");
        TimeSpan timeout = TimeSpan.Zero;
        CancellationToken cancellationToken = CancellationToken.None;

        IMigrationLockHandle? handle = await provider.TryAcquireAsync(key, timeout, cancellationToken);
        if (handle is null)
        { /* timed out */
        }
        await using (handle)
        { /* handle.HandleLostToken fires if the lock is known to be lost */
        }

        Assert.NotNull(handle);
        Assert.Equal(1, locks.AcquireCount);
        Assert.False(locks.IsHeld(key)); // disposing the handle released the lock
    }

    [Fact]
    public async Task BatchLockProvider_HoldsEveryKeyOfTheBatchOnOneHandle()
    {
        var locks = new InMemoryMigrationLockProvider();
        IMigrationBatchLockProvider provider = locks;
        string[] keys =
        [
            MigrationLockKeys.For("LegacyCustomer->Customer", "c1"),
            MigrationLockKeys.For("LegacyCustomer->Customer", "c2"),
        ];
        TimeSpan timeout = TimeSpan.Zero;
        CancellationToken cancellationToken = CancellationToken.None;

        IMigrationLockHandle? handle = await provider.TryAcquireManyAsync(keys, timeout, cancellationToken);

        Assert.NotNull(handle);
        Assert.All(keys, key => Assert.True(locks.IsHeld(key)));
        await handle.DisposeAsync();
        Assert.All(keys, key => Assert.False(locks.IsHeld(key)));
    }
}

/// <summary>The outbox conformance suite over the in-memory outbox: the example of docs/adapters.md.</summary>
public sealed class InMemoryOutboxConformanceTests : OutboxConformanceTests
{
    protected override Task<IMigrationOutbox> CreateOutboxAsync() =>
        Task.FromResult<IMigrationOutbox>(new InMemoryOutbox());
}
