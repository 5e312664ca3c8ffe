using LazyMigrate.Tests.Support;
using NSubstitute;

namespace LazyMigrate.Tests;

/// <summary>
/// A lock wait is bounded by LockTimeout in total: a retry after a transient failure gets only the time left, a batch
/// locked id by id shares one deadline, and once nothing is left it is a lock timeout, not another try.
/// </summary>
public sealed class LockDeadlineTests
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    private static MigrationHarness Harness(SharedStores shared, IMigrationLockProvider locks) =>
        MigrationHarness.Create(shared, o => o.LockTimeout = LockTimeout, b => b.UseLock(locks)).SeedLegacy(2);

    [Fact]
    public async Task ARetryAfterATransientFailure_GetsOnlyTheTimeLeft_AndNoneLeftIsALockTimeout()
    {
        var shared = new SharedStores();
        var locks = new ScriptedLockProvider();
        await using var harness = Harness(shared, locks);

        Task<NewCustomer?> read = harness.Repository.GetAsync(MigrationHarness.Id(0)).AsTask();
        ScriptedLockProvider.Attempt first = await locks.NextAsync();
        shared.Time.Advance(TimeSpan.FromSeconds(6));
        first.FailTransiently();
        ScriptedLockProvider.Attempt second = await locks.NextAsync();
        Assert.Equal(TimeSpan.FromSeconds(4), second.Timeout);
        shared.Time.Advance(TimeSpan.FromSeconds(4));
        second.FailTransiently();

        var timeout = await Assert.ThrowsAsync<MigrationLockTimeoutException>(() =>
            read.WaitAsync(TimeSpan.FromSeconds(30))
        );
        Assert.Equal(LockTimeout, first.Timeout);
        Assert.Equal(2, locks.Count);
        Assert.Equal(MigrationHarness.Id(0), timeout.EntityId);
    }

    [Fact]
    public async Task ABatchLockedIdById_SharesOneDeadline()
    {
        var shared = new SharedStores();
        var locks = new ScriptedLockProvider();
        await using var harness = Harness(shared, locks);

        Task<IReadOnlyDictionary<string, NewCustomer>> read = harness
            .Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
            .AsTask();
        ScriptedLockProvider.Attempt first = await locks.NextAsync();
        shared.Time.Advance(TimeSpan.FromSeconds(7));
        first.Grant();
        ScriptedLockProvider.Attempt second = await locks.NextAsync();
        second.Grant();

        Assert.Equal(2, (await read).Count);
        Assert.Equal(LockTimeout, first.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(3), second.Timeout);
    }

    [Fact]
    public async Task ABatchLockedAtOnce_IsRetriedWithTheTimeLeft_AndTakesAllItsKeysInOneCall()
    {
        var shared = new SharedStores();
        var locks = new ScriptedLockProvider();
        await using var harness = Harness(shared, new ScriptedBatchLockProvider(locks));
        string[] ids = [MigrationHarness.Id(1), MigrationHarness.Id(0)];

        Task<IReadOnlyDictionary<string, NewCustomer>> read = harness.Repository.GetManyAsync(ids).AsTask();
        ScriptedLockProvider.Attempt first = await locks.NextAsync();
        shared.Time.Advance(TimeSpan.FromSeconds(6));
        first.FailTransiently();
        ScriptedLockProvider.Attempt second = await locks.NextAsync();
        second.Grant();

        Assert.Equal(2, (await read.WaitAsync(TimeSpan.FromSeconds(30))).Count);
        Assert.Equal([.. ids.Select(MigrationHarness.LockKey)], first.Keys);
        Assert.Equal(LockTimeout, first.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(4), second.Timeout);
        Assert.Equal(2, locks.Count);
    }

    [Fact]
    public async Task ARetriedStoreLock_GetsOnlyTheTimeLeft_AndNoneLeftIsALockTimeout()
    {
        var shared = new SharedStores();
        var timeouts = new List<TimeSpan>();
        var store = Substitute.For<ILockingNewStore<NewCustomer>>();
        store
            .FindAsync(default!, default)
            .ReturnsForAnyArgs(new ValueTask<NewStoreRead<NewCustomer>>(NewStoreRead<NewCustomer>.Missing));
        store.TryLockAsync(default!, default, default).ReturnsForAnyArgs(call => WaitThenFail(call.ArgAt<TimeSpan>(1)));
        store
            .TryLockAndReadOldAsync<OldCustomer>(default!, default, default!, default)
            .ReturnsForAnyArgs(call => WaitThenFail(call.ArgAt<TimeSpan>(1)));
        await using var harness = MigrationHarness
            .Create(shared, o => o.LockTimeout = LockTimeout, b => b.UseNewStore(store).UseNewStoreLock())
            .SeedLegacy(1);

        await Assert.ThrowsAsync<MigrationLockTimeoutException>(async () =>
            await harness.Repository.GetAsync(MigrationHarness.Id(0))
        );

        Assert.Equal([LockTimeout], timeouts);

        ValueTask<INewStoreLock<NewCustomer>?> WaitThenFail(TimeSpan timeout)
        {
            timeouts.Add(timeout);

            // Each attempt waits its whole timeout, then its connection breaks.
            shared.Time.Advance(timeout);
            return ValueTask.FromException<INewStoreLock<NewCustomer>?>(
                new TransientStoreException("the lock's connection broke")
            );
        }
    }
}
