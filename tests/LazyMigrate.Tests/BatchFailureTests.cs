using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LazyMigrate.Tests;

/// <summary>A batch read with failed ids is loud, and the caller keeps what was read.</summary>
public sealed class BatchFailureTests
{
    [Fact]
    public async Task GetManyAsync_OneUnmappableEntity_ThrowsABatchError_CarryingTheOthers()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(3);
        harness.New.Seed("already-there", MigrationHarness.Mapped(9));
        harness.Mapper.FailWhen = old => old == MigrationHarness.Legacy(1);
        string[] ids =
        [
            MigrationHarness.Id(0),
            MigrationHarness.Id(1),
            MigrationHarness.Id(2),
            "already-there",
            "nobody",
        ];

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync(ids)
        );

        Assert.Equal(
            new Dictionary<string, NewCustomer>
            {
                [MigrationHarness.Id(0)] = MigrationHarness.Mapped(0),
                [MigrationHarness.Id(2)] = MigrationHarness.Mapped(2),
                ["already-there"] = MigrationHarness.Mapped(9),
            },
            failure.Found
        );
        var mapping = Assert.IsType<MigrationMappingException>(Assert.Single(failure.Failures).Value);
        Assert.Equal(MigrationHarness.Id(1), mapping.EntityId);
        Assert.Same(mapping, failure.InnerException);
        Assert.Equal(MigrationHarness.Id(1), failure.EntityId);
        Assert.Equal(MigrationHarness.MigrationName, failure.MigrationName);
        Assert.Contains($"'{MigrationHarness.Id(1)}'", failure.Message, StringComparison.Ordinal);
        await harness.DrainAsync();
        Assert.Equal(2, harness.Events.Count);
    }

    [Fact]
    public async Task GetManyAsync_AnIdTheOldStoreCannotKeyOn_FailsAlone_NamedByItsError_AndTheOthersMigrate()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness
            .Create(shared, configure: b => b.UseOldStore(new IdRejectingOldStore<OldCustomer>(shared.Old)))
            .SeedLegacy(2);
        string invalid = IdRejectingOldStore<OldCustomer>.RejectedPrefix + "1";

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), invalid, MigrationHarness.Id(1)])
        );

        Assert.Equal(invalid, failure.EntityId);
        Assert.Equal(invalid, Assert.IsType<InvalidEntityIdException>(Assert.Single(failure.Failures).Value).EntityId);
        Assert.Equal(
            [MigrationHarness.Id(0), MigrationHarness.Id(1)],
            failure.Found.Keys.Order(StringComparer.Ordinal)
        );
        await harness.DrainAsync();
        Assert.Equal(2, harness.Events.Count);
    }

    [Fact]
    public async Task GetAsync_AnIdTheOldStoreCannotKeyOn_IsRefusedBeforeTheMigration_AndLogsNoFailure()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.Create(
            shared,
            configure: b =>
            {
                b.UseOldStore(new IdRejectingOldStore<OldCustomer>(shared.Old));
                b.Services.AddLogging(logging => logging.AddFakeLogging());
            }
        );
        string invalid = IdRejectingOldStore<OldCustomer>.RejectedPrefix + "1";

        var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await harness.Repository.GetAsync(invalid)
        );

        // A client's bad id is the client's error: no migration ran, so none failed (and floods no log).
        Assert.Equal(invalid, failure.EntityId);
        Assert.DoesNotContain(
            harness.Services.GetRequiredService<FakeLogCollector>().GetSnapshot(),
            record => record.Level >= LogLevel.Warning
        );
        Assert.False(shared.Lock.IsHeld(MigrationHarness.LockKey(invalid)));
    }

    [Fact]
    public async Task GetManyAsync_ABatchError_IsALazyMigrationException_AndCatchableWithoutItsType()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(2);
        harness.Mapper.FailWhen = _ => true;

        var failure = await Assert.ThrowsAnyAsync<LazyMigrationException>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
        );

        var batch = Assert.IsAssignableFrom<MigrationBatchException>(failure);
        Assert.Equal([MigrationHarness.Id(0), MigrationHarness.Id(1)], batch.Failures.Keys);
        Assert.All(batch.Failures.Values, f => Assert.IsType<MigrationMappingException>(f));
        Assert.Contains("and 1 more", batch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetManyAsync_AWholeBatchLockTimeout_IsABatchError_WhoseInnerExceptionIsTheTimeout()
    {
        await using var harness = MigrationHarness.Create(options: o => o.LockTimeout = TimeSpan.Zero).SeedLegacy(2);
        await using IMigrationLockHandle? held = await harness.Shared.Lock.TryAcquireAsync(
            MigrationHarness.LockKey(MigrationHarness.Id(0)),
            TimeSpan.Zero
        );

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
        );

        Assert.IsType<MigrationLockTimeoutException>(failure.InnerException);
        Assert.Equal([MigrationHarness.Id(0), MigrationHarness.Id(1)], failure.Failures.Keys.Order());
        Assert.Empty(failure.Found);
    }

    [Fact]
    public async Task GetManyAsync_ANewStoreOutageOnTheFirstRead_IsABatchError_WhoseInnerExceptionIsTheStoreError()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New)
        {
            BeforeFind = () => throw new InvalidOperationException("down"),
        };
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseNewStore(store)).SeedLegacy(2);

        var failure = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
        );

        var outage = Assert.IsType<MigrationStoreException>(failure.InnerException);
        Assert.Equal(MigrationRole.NewStore, outage.Role);
        Assert.All(failure.Failures.Values, f => Assert.Same(outage, f));
        Assert.Equal(2, failure.Failures.Count);
        Assert.Empty(failure.Found);
    }

    [Fact]
    public async Task GetAsync_AndMigrateAsync_OfAnUnmappableEntity_StillThrowTheMappingErrorItself()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);
        harness.Mapper.FailWhen = _ => true;

        await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.GetAsync(MigrationHarness.Id(0))
        );
        await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.MigrateAsync(MigrationHarness.Id(0))
        );
    }

    [Fact]
    public async Task GetManyAsync_CaughtAsTheReadmeShows_GivesEveryIdButTheFailedOnes()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(3);
        harness.Mapper.FailWhen = old => old == MigrationHarness.Legacy(1);
        var repository = harness.Repository;
        string[] ids = [MigrationHarness.Id(0), MigrationHarness.Id(1), MigrationHarness.Id(2)];
        var failed = new List<string>();

        // The README's "Errors" example, with customers for accounts.
        IReadOnlyDictionary<string, NewCustomer> customers;
        try
        {
            customers = await repository.GetManyAsync(ids);
        }
        catch (MigrationBatchException<NewCustomer> failure)
        {
            customers = failure.Found; // every id but the failed ones
            foreach (var (id, _) in failure.Failures)
            {
                failed.Add(id);
            }
        }

        Assert.Equal([MigrationHarness.Id(0), MigrationHarness.Id(2)], customers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([MigrationHarness.Id(1)], failed);
    }
}
