using LazyMigrate.Tests.Support;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;
using static LazyMigrate.Tests.Outbox.ForwardSyncScenario;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// An old-API write visible through the new API at once, where the new store knows of it (a capture trigger marks the
/// entity stale in the legacy write's transaction; <c>InMemoryNewStore.MarkStale</c> here): the read that finds a
/// stale entity syncs it from the old store before returning, with no drain; a read of a fresh entity never does.
/// </summary>
public sealed class StaleReadTests
{
    private readonly ForwardSyncScenario _scenario = new();

    [Fact]
    public async Task AStaleEntity_IsSyncedByTheReadThatFindsIt_WithNoDispatcher()
    {
        await using var harness = await _scenario.MigratedAsync();
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1), markStale: true);

        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));

        // Synced once: the mark is gone, the next read is the hot path's again (no old-store read).
        Assert.False(_scenario.Shared.New.Peek(Id).IsStale);
        int oldReads = _scenario.Shared.Old.ReadCount;
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
        Assert.Equal(oldReads, _scenario.Shared.Old.ReadCount);

        // The item stays for the dispatcher, which finds nothing left to do.
        await harness.DrainAsync();
        Assert.Empty(_scenario.Outbox.Snapshot());
    }

    [Fact]
    public async Task AStaleEntityInABatch_IsSynced_TheOthersAreReadAsTheyAre()
    {
        string other = MigrationHarness.Id(1);
        await using var harness = await _scenario.MigratedAsync(ids: [Id, other]);
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1), markStale: true);

        IReadOnlyDictionary<string, NewCustomer> read = await harness.Repository.GetManyAsync([Id, other]);

        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), read[Id]);
        Assert.Equal(MigrationHarness.Mapped(1), read[other]);
        Assert.False(_scenario.Shared.New.Peek(Id).IsStale);
    }

    [Fact]
    public async Task AStaleEntityWhoseNewApiSaveCameLater_KeepsTheSave_AndTheMarkIsCleared()
    {
        await using var harness = await _scenario.MigratedAsync();
        _scenario.Shared.Old.Seed(Id, LegacyWrite(1));
        await Recorder(harness).RecordChangeAsync(Id);
        await harness.Repository.SaveAsync(Id, Revision(0, 2));

        // The legacy write's mark landed after the save's write, but the save was recorded last: it wins.
        _scenario.Shared.New.MarkStale(Id);

        Assert.Equal(Revision(0, 2), await harness.Repository.GetAsync(Id));
        Assert.False(_scenario.Shared.New.Peek(Id).IsStale);
        await harness.DrainAsync();
        Assert.Equal(RevisionInOldStore(0, 2), _scenario.Shared.Old.Peek(Id));
    }

    [Fact]
    public async Task AStaleEntityWhoseSyncFails_IsReadAsTheNewStoreHoldsIt_AndTheDispatcherRetries()
    {
        bool poisoned = true;
        await using var harness = await _scenario.MigratedAsync(b =>
            b.UseMerger(
                (old, current) => poisoned ? throw new FormatException("bad") : current with { Email = old.Email }
            )
        );
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1), markStale: true);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));

        poisoned = false;
        await harness.DrainAsync();
        Assert.Equal(LegacyWrite(1).Email, (await harness.Repository.GetAsync(Id))?.Email);
    }

    [Fact]
    public async Task WithForwardSyncOff_AStaleMarkIsIgnored()
    {
        _scenario.Shared.Old.Seed(Id, MigrationHarness.Legacy(0));
        await using var harness = MigrationHarness.Create(_scenario.Shared);
        Assert.NotNull(await harness.Repository.GetAsync(Id));
        _scenario.Shared.Old.Seed(Id, LegacyWrite(1));
        _scenario.Shared.New.MarkStale(Id);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
    }
}
