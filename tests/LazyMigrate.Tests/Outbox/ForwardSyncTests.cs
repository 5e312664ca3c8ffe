using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;
using static LazyMigrate.Tests.Outbox.ForwardSyncScenario;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Forward sync (invariant 9): a write made through the old API, straight into the old store and recorded with
/// <see cref="IOldStoreChangeRecorder{TOld, TNew}"/>, reaches the new store for an entity already migrated, through the
/// merger; a deletion becomes a tombstone; an entity never migrated is left to migrate later. Of a write-back and a
/// forward sync pending for one entity, the one recorded last wins in both stores.
/// </summary>
public sealed class ForwardSyncTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    private readonly ForwardSyncScenario _scenario = new();
    private SharedStores Shared => _scenario.Shared;
    private InMemoryOutbox Outbox => _scenario.Outbox;

    private static NewCustomer Mapped(int n) => MigrationHarness.Mapped(n);

    [Fact]
    public async Task AnOldApiWrite_ToAMigratedEntity_ReachesTheNewStore_WithoutAWriteBack()
    {
        await using var harness = await _scenario.MigratedAsync();
        var old = new WriteTrackingOldStore<OldCustomer>(Shared.Old);
        await using var tracked = _scenario.Create(b => b.UseOldStore(old));

        await _scenario.WriteThroughOldApiAsync(tracked, LegacyWrite(1));
        await tracked.DrainAsync();

        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await tracked.Repository.GetAsync(Id));
        Assert.Equal(0, old.WritesOf(Id));
        Assert.Empty(Outbox.Snapshot());
    }

    [Fact]
    public async Task TheMerger_SeesTheNewStoresEntity_AndKeepsWhatOnlyTheNewModelHas()
    {
        (OldCustomer Old, NewCustomer Current)? given = null;
        await using var harness = await _scenario.MigratedAsync(b =>
            b.UseMerger(
                (old, current) =>
                {
                    given = (old, current);
                    return current with { Email = old.Email };
                }
            )
        );
        await harness.Repository.SaveAsync(Id, new NewCustomer("Ada", "Lovelace", "c0@example.com"));
        await harness.DrainAsync();

        // The old model cannot tell "Ada Lovelace" from its full name alone: the merger keeps the new entity's names.
        await _scenario.WriteThroughOldApiAsync(harness, new OldCustomer("Ada Lovelace", "ada@example.com"));
        await harness.DrainAsync();

        Assert.Equal(new NewCustomer("Ada", "Lovelace", "ada@example.com"), await harness.Repository.GetAsync(Id));
        Assert.Equal(new NewCustomer("Ada", "Lovelace", "c0@example.com"), given?.Current);
    }

    [Fact]
    public async Task AnOldApiDelete_LeavesATombstone_SoTheEntityDoesNotMigrateBack()
    {
        await using var harness = await _scenario.MigratedAsync();

        await Shared.Old.DeleteAsync(Id);
        await Recorder(harness).RecordChangeAsync(Id);
        await harness.DrainAsync();

        Assert.Equal(NewStoreState.Deleted, Shared.New.Peek(Id).State);
        Assert.Null(await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task AnEntityNeverMigrated_NeedsNothing_AndMigratesLaterFromTheFreshRecord()
    {
        Shared.Old.Seed(Id, MigrationHarness.Legacy(0));
        await using var harness = _scenario.Create();

        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));
        await harness.DrainAsync();

        Assert.Equal(NewStoreState.Missing, Shared.New.Peek(Id).State);
        Assert.Empty(Outbox.Snapshot());
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task AnOldApiWrite_AfterANewApiSaveWhoseWriteBackIsPending_WinsInBothStores()
    {
        await using var harness = await _scenario.MigratedAsync();
        await harness.Repository.SaveAsync(Id, Revision(0, 1));

        // The v1 write lands while the v2 save's write-back is still pending: it came last.
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));
        await harness.DrainAsync();

        Assert.Equal(LegacyWrite(1), Shared.Old.Peek(Id));
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
        Assert.Empty(Outbox.Snapshot());
    }

    [Fact]
    public async Task ANewApiSave_AfterAnOldApiWriteWhoseForwardSyncIsPending_WinsInBothStores()
    {
        await using var harness = await _scenario.MigratedAsync();
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));

        await harness.Repository.SaveAsync(Id, Revision(0, 2));
        await harness.DrainAsync();

        Assert.Equal(RevisionInOldStore(0, 2), Shared.Old.Peek(Id));
        Assert.Equal(Revision(0, 2), await harness.Repository.GetAsync(Id));
        Assert.Empty(Outbox.Snapshot());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BothDirectionsInOneClaim_TheOneRecordedLastWins_WhicheverKindItIs(bool oldApiLast)
    {
        await using var harness = await _scenario.MigratedAsync();
        if (oldApiLast)
        {
            await harness.Repository.SaveAsync(Id, Revision(0, 1));
            await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));
        }
        else
        {
            await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));
            await harness.Repository.SaveAsync(Id, Revision(0, 1));
        }

        Assert.Equal(2, Outbox.Snapshot().Count);
        Assert.Equal(2, await harness.Dispatcher.RunOnceAsync());

        OldCustomer expectedOld = oldApiLast ? LegacyWrite(1) : RevisionInOldStore(0, 1);
        Assert.Equal(expectedOld, Shared.Old.Peek(Id));
        Assert.Equal(harness.Mapper.Map(expectedOld), await harness.Repository.GetAsync(Id));
        Assert.Empty(Outbox.Snapshot());
    }

    [Fact]
    public async Task AForwardSyncOfWhatAWriteBackWrote_IsAnEcho_AndWritesNothing()
    {
        await using var harness = await _scenario.MigratedAsync();
        using var skipped = harness.Collect(LazyMigrateTelemetry.OutboxSkippedInstrument);
        using var applied = harness.Collect(LazyMigrateTelemetry.OutboxAppliedInstrument);
        await harness.Repository.SaveAsync(Id, Revision(0, 1));
        await harness.DrainAsync();
        int inserts = Shared.New.InsertCount;

        // A capture that saw the write-back's own write (one the state comparison must recognise).
        await Recorder(harness).RecordChangeAsync(Id);
        await harness.DrainAsync();

        Assert.Equal(Revision(0, 1), await harness.Repository.GetAsync(Id));
        Assert.Equal(inserts, Shared.New.InsertCount);
        var echo = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal(("forward_sync", "unchanged", 1L), (echo.OutboxTag("kind"), echo.OutboxTag("reason"), echo.Value));
        Assert.DoesNotContain(applied.GetMeasurementSnapshot(), m => m.OutboxTag("kind") == "forward_sync");
    }

    [Fact]
    public async Task AMergerThatThrows_FailsThatEntityOnly_RetriesIt_ThenDeadLettersIt()
    {
        string other = MigrationHarness.Id(1);
        await using var harness = await _scenario.MigratedAsync(
            b =>
                b.UseMerger(
                    (old, current) =>
                        old.Email.StartsWith("poison", StringComparison.Ordinal)
                            ? throw new FormatException("bad e-mail")
                            : current with
                            {
                                Email = old.Email,
                            }
                ),
            outbox => (outbox.MaxAttempts, outbox.RetryDelay) = (2, TimeSpan.Zero),
            ids: [Id, other]
        );

        await _scenario.WriteThroughOldApiAsync(harness, new OldCustomer("First0 Last0", "poison@example.com"));
        Shared.Old.Seed(other, new OldCustomer("First1 Last1", "fine@example.com"));
        await Recorder(harness).RecordChangeAsync(other);
        await harness.DrainAsync();

        Assert.Equal("fine@example.com", (await harness.Repository.GetAsync(other))?.Email);
        OutboxItem dead = Assert.Single(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Equal((OutboxItemKind.ForwardSync, Id, 2), (dead.Kind, dead.EntityId, dead.Attempts));
        Assert.Contains("FormatException: bad e-mail", dead.LastError, StringComparison.Ordinal);
        Assert.Contains(Id, dead.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASaveRacingAForwardSync_WaitsForItsLock_AndIsNotOverwritten()
    {
        await using var harness = await _scenario.MigratedAsync();
        var gated = new GatedOldStore<OldCustomer>(Shared.Old);
        await using var syncing = _scenario.Create(b => b.UseOldStore(gated));
        await _scenario.WriteThroughOldApiAsync(syncing, LegacyWrite(1));

        // The forward sync holds the entity's lock and is held in its old-store read; the save must wait for it.
        Task drain = syncing.DrainAsync();
        await gated.Read;
        Task save = harness.Repository.SaveAsync(Id, Revision(0, 2)).AsTask();
        try
        {
            await Eventually.TrueAsync(() => Shared.Lock.WaiterCount(MigrationHarness.LockKey(Id)) == 1);
            Assert.False(save.IsCompleted);
        }
        finally
        {
            gated.Release();
        }

        await Task.WhenAll(drain, save);
        await syncing.DrainAsync();

        Assert.Equal(Revision(0, 2), await harness.Repository.GetAsync(Id));
        Assert.Equal(RevisionInOldStore(0, 2), Shared.Old.Peek(Id));
    }

    [Fact]
    public async Task TheRecorder_WithForwardSyncOff_RefusesNamingTheMigrationAndTheOption()
    {
        await using var harness = MigrationHarness.Create(Shared);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Recorder(harness).RecordChangeAsync(Id).AsTask()
        );

        Assert.Contains(MigrationHarness.MigrationName, error.Message, StringComparison.Ordinal);
        Assert.Contains("LazyMigrationOptions.ForwardSync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AForwardSyncItem_WhileTheOptionIsOff_IsNeverApplied_AndEndsDeadLettered()
    {
        await using var harness = await _scenario.MigratedAsync();
        await using var off = AsyncWriteBack.Create(
            Shared,
            Outbox,
            o => (o.MaxAttempts, o.RetryDelay) = (1, TimeSpan.Zero)
        );
        await _scenario.WriteThroughOldApiAsync(harness, LegacyWrite(1));

        await off.DrainAsync();

        Assert.Equal(Mapped(0), Shared.New.Peek(Id).Value);
        OutboxItem dead = Assert.Single(await off.Dispatcher.GetDeadLettersAsync());
        Assert.Contains("forward sync off", dead.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordWriteAsync_RunsTheLegacyWriteUnderTheEntitysLock_SoAPendingWriteBackCannotLandInBetween()
    {
        await using var harness = await _scenario.MigratedAsync();
        await harness.Repository.SaveAsync(Id, Mapped(0) with { Email = "v2@example.com" });
        bool? lockFree = null;

        await Recorder(harness)
            .RecordWriteAsync(
                Id,
                async ct =>
                {
                    // A dispatcher applying the pending write-back would need this lock now.
                    await using IMigrationLockHandle? other = await Shared.Lock.TryAcquireAsync(
                        MigrationHarness.LockKey(Id),
                        TimeSpan.Zero,
                        ct
                    );
                    lockFree = other is not null;
                    Shared.Old.Seed(Id, LegacyWrite(1));
                    return true;
                }
            );
        await harness.DrainAsync();

        Assert.False(lockFree);
        Assert.False(Shared.Lock.IsHeld(MigrationHarness.LockKey(Id)));
        Assert.Equal(LegacyWrite(1), Shared.Old.Peek(Id));
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task RecordWriteAsync_RecordsTheChange_EvenWhenTheWriteThrows()
    {
        await using var harness = await _scenario.MigratedAsync();

        ValueTask<bool> CommittedButTheReplyWasLost(CancellationToken _)
        {
            Shared.Old.Seed(Id, LegacyWrite(2));
            throw new TimeoutException("the commit's reply was lost");
        }

        var error = await Assert.ThrowsAsync<TimeoutException>(async () =>
            await Recorder(harness).RecordWriteAsync(Id, CommittedButTheReplyWasLost)
        );
        await harness.DrainAsync();

        Assert.Equal("the commit's reply was lost", error.Message);
        Assert.Equal(harness.Mapper.Map(LegacyWrite(2)), await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task RecordWriteAsync_AWriteThatThrows_WhileAWriteBackIsPending_LetsTheAcknowledgedSaveWin()
    {
        await using var harness = await _scenario.MigratedAsync();
        NewCustomer saved = Mapped(0) with { Email = "v2@example.com" };
        await harness.Repository.SaveAsync(Id, saved);

        static ValueTask<bool> Refused(CancellationToken _) =>
            throw new TimeoutException("the legacy database refused");

        await Assert.ThrowsAsync<TimeoutException>(async () => await Recorder(harness).RecordWriteAsync(Id, Refused));
        await harness.DrainAsync();

        Assert.Equal(saved, await harness.Repository.GetAsync(Id));
        Assert.Equal(harness.Mapper.MapBack(saved), Shared.Old.Peek(Id));
    }

    [Fact]
    public async Task RecordWriteAsync_RecordsNothing_ForAWriteThatChangedNothing_SoAPendingWriteBackStillLands()
    {
        await using var harness = await _scenario.MigratedAsync();
        NewCustomer saved = Mapped(0) with { Email = "v2@example.com" };
        await harness.Repository.SaveAsync(Id, saved);

        // The legacy code deleted a row that was not there: nothing changed, so nothing supersedes the write-back.
        bool changed = await Recorder(harness).RecordWriteAsync(Id, _ => ValueTask.FromResult(false));
        await harness.DrainAsync();

        Assert.False(changed);
        Assert.Equal(saved, await harness.Repository.GetAsync(Id));
        Assert.Equal(harness.Mapper.MapBack(saved), Shared.Old.Peek(Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchOfOldApiWrites_IsWrittenInOneCall_OrEachAloneWhenTheBatchFails(bool refuseBatches)
    {
        string[] ids = [.. Enumerable.Range(0, 5).Select(MigrationHarness.Id)];
        await using var harness = await _scenario.MigratedAsync(ids: ids);
        var store = new BatchCountingNewStore<NewCustomer>(Shared.New, refuseBatches);
        await using var batching = _scenario.Create(b => b.UseNewStore(store));

        for (int n = 0; n < ids.Length; n++)
        {
            Shared.Old.Seed(ids[n], new OldCustomer($"First{n} Last{n}", $"c{n}.v1@example.com"));
        }

        await Recorder(batching).RecordChangesAsync(ids);
        await batching.DrainAsync();

        for (int n = 0; n < ids.Length; n++)
        {
            Assert.Equal($"c{n}.v1@example.com", (await batching.Repository.GetAsync(ids[n]))?.Email);
        }

        Assert.Equal(1, store.Batches);
        Assert.Equal(refuseBatches ? ids.Length : 0, store.Upserts);
        Assert.Empty(Outbox.Snapshot());
    }

    [Theory]
    [InlineData(false, true, "ForwardSync needs UseLock")]
    [InlineData(true, false, "ForwardSync needs an outbox")]
    public void AMissingPrerequisite_FailsTheStart_NamingIt(bool useLock, bool withOutbox, string expected)
    {
        var services = new ServiceCollection();
        var builder = services
            .AddLazyMigration<OldCustomer, NewCustomer>(o => (o.ForwardSync, o.UseLock) = (true, useLock))
            .UseMapper(new Support.CustomerMapper())
            .UseInMemoryOldStore(Shared.Old)
            .UseInMemoryNewStore(Shared.New);
        if (withOutbox)
        {
            builder.UseInMemoryOutbox(Outbox);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.ThrowsAny<Exception>(() =>
            provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
        );
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
