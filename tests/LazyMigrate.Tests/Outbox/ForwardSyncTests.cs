using System.Diagnostics.Metrics;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;

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

    private readonly SharedStores _shared = new();
    private readonly InMemoryOutbox _outbox = new();

    /// <summary>What the old API writes: customer 0 under a new e-mail address.</summary>
    private static OldCustomer LegacyWrite(int revision) => new("First0 Last0", $"c0.v1-{revision}@example.com");

    [Fact]
    public async Task AnOldApiWrite_ToAMigratedEntity_ReachesTheNewStore_WithoutAWriteBack()
    {
        await using var harness = await MigratedAsync();
        var old = new WriteTrackingOldStore<OldCustomer>(_shared.Old);
        await using var tracked = Create(b => b.UseOldStore(old));

        await WriteThroughOldApiAsync(tracked, LegacyWrite(1));
        await tracked.DrainAsync();

        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await tracked.Repository.GetAsync(Id));
        Assert.Equal(0, old.WritesOf(Id));
        Assert.Empty(_outbox.Snapshot());
    }

    [Fact]
    public async Task TheMerger_SeesTheNewStoresEntity_AndKeepsWhatOnlyTheNewModelHas()
    {
        (OldCustomer Old, NewCustomer Current)? given = null;
        await using var harness = await MigratedAsync(b =>
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
        await WriteThroughOldApiAsync(harness, new OldCustomer("Ada Lovelace", "ada@example.com"));
        await harness.DrainAsync();

        Assert.Equal(new NewCustomer("Ada", "Lovelace", "ada@example.com"), await harness.Repository.GetAsync(Id));
        Assert.Equal(new NewCustomer("Ada", "Lovelace", "c0@example.com"), given?.Current);
    }

    [Fact]
    public async Task AnOldApiDelete_LeavesATombstone_SoTheEntityDoesNotMigrateBack()
    {
        await using var harness = await MigratedAsync();

        await _shared.Old.DeleteAsync(Id);
        await Recorder(harness).RecordChangeAsync(Id);
        await harness.DrainAsync();

        Assert.Equal(NewStoreState.Deleted, _shared.New.Peek(Id).State);
        Assert.Null(await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task AnEntityNeverMigrated_NeedsNothing_AndMigratesLaterFromTheFreshRecord()
    {
        _shared.Old.Seed(Id, MigrationHarness.Legacy(0));
        await using var harness = Create();

        await WriteThroughOldApiAsync(harness, LegacyWrite(1));
        await harness.DrainAsync();

        Assert.Equal(NewStoreState.Missing, _shared.New.Peek(Id).State);
        Assert.Empty(_outbox.Snapshot());
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
    }

    [Fact]
    public async Task AnOldApiWrite_AfterANewApiSaveWhoseWriteBackIsPending_WinsInBothStores()
    {
        await using var harness = await MigratedAsync();
        await harness.Repository.SaveAsync(Id, Revision(0, 1));

        // The v1 write lands while the v2 save's write-back is still pending: it came last.
        await WriteThroughOldApiAsync(harness, LegacyWrite(1));
        await harness.DrainAsync();

        Assert.Equal(LegacyWrite(1), _shared.Old.Peek(Id));
        Assert.Equal(harness.Mapper.Map(LegacyWrite(1)), await harness.Repository.GetAsync(Id));
        Assert.Empty(_outbox.Snapshot());
    }

    [Fact]
    public async Task ANewApiSave_AfterAnOldApiWriteWhoseForwardSyncIsPending_WinsInBothStores()
    {
        await using var harness = await MigratedAsync();
        await WriteThroughOldApiAsync(harness, LegacyWrite(1));

        await harness.Repository.SaveAsync(Id, Revision(0, 2));
        await harness.DrainAsync();

        Assert.Equal(RevisionInOldStore(0, 2), _shared.Old.Peek(Id));
        Assert.Equal(Revision(0, 2), await harness.Repository.GetAsync(Id));
        Assert.Empty(_outbox.Snapshot());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BothDirectionsInOneClaim_TheOneRecordedLastWins_WhicheverKindItIs(bool oldApiLast)
    {
        await using var harness = await MigratedAsync();
        if (oldApiLast)
        {
            await harness.Repository.SaveAsync(Id, Revision(0, 1));
            await WriteThroughOldApiAsync(harness, LegacyWrite(1));
        }
        else
        {
            await WriteThroughOldApiAsync(harness, LegacyWrite(1));
            await harness.Repository.SaveAsync(Id, Revision(0, 1));
        }

        Assert.Equal(2, _outbox.Snapshot().Count);
        Assert.Equal(2, await harness.Dispatcher.RunOnceAsync());

        OldCustomer expectedOld = oldApiLast ? LegacyWrite(1) : RevisionInOldStore(0, 1);
        Assert.Equal(expectedOld, _shared.Old.Peek(Id));
        Assert.Equal(harness.Mapper.Map(expectedOld), await harness.Repository.GetAsync(Id));
        Assert.Empty(_outbox.Snapshot());
    }

    [Fact]
    public async Task AForwardSyncOfWhatAWriteBackWrote_IsAnEcho_AndWritesNothing()
    {
        await using var harness = await MigratedAsync();
        using var skipped = Collect(harness, LazyMigrateTelemetry.OutboxSkippedInstrument);
        using var applied = Collect(harness, LazyMigrateTelemetry.OutboxAppliedInstrument);
        await harness.Repository.SaveAsync(Id, Revision(0, 1));
        await harness.DrainAsync();
        int inserts = _shared.New.InsertCount;

        // A capture that saw the write-back's own write (one the state comparison must recognise).
        await Recorder(harness).RecordChangeAsync(Id);
        await harness.DrainAsync();

        Assert.Equal(Revision(0, 1), await harness.Repository.GetAsync(Id));
        Assert.Equal(inserts, _shared.New.InsertCount);
        var echo = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal(("forward_sync", "unchanged", 1L), (Tag(echo, "kind"), Tag(echo, "reason"), echo.Value));
        Assert.DoesNotContain(applied.GetMeasurementSnapshot(), m => Tag(m, "kind") == "forward_sync");
    }

    [Fact]
    public async Task AMergerThatThrows_FailsThatEntityOnly_RetriesIt_ThenDeadLettersIt()
    {
        string other = MigrationHarness.Id(1);
        await using var harness = await MigratedAsync(
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

        await WriteThroughOldApiAsync(harness, new OldCustomer("First0 Last0", "poison@example.com"));
        _shared.Old.Seed(other, new OldCustomer("First1 Last1", "fine@example.com"));
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
        await using var harness = await MigratedAsync();
        var gated = new GatedOldStore<OldCustomer>(_shared.Old);
        await using var syncing = Create(b => b.UseOldStore(gated));
        await WriteThroughOldApiAsync(syncing, LegacyWrite(1));

        // The forward sync holds the entity's lock and is held in its old-store read; the save must wait for it.
        Task drain = syncing.DrainAsync();
        await gated.Read;
        Task save = harness.Repository.SaveAsync(Id, Revision(0, 2)).AsTask();
        try
        {
            await Eventually.TrueAsync(() => _shared.Lock.WaiterCount(MigrationHarness.LockKey(Id)) == 1);
            Assert.False(save.IsCompleted);
        }
        finally
        {
            gated.Release();
        }

        await Task.WhenAll(drain, save);
        await syncing.DrainAsync();

        Assert.Equal(Revision(0, 2), await harness.Repository.GetAsync(Id));
        Assert.Equal(RevisionInOldStore(0, 2), _shared.Old.Peek(Id));
    }

    [Fact]
    public async Task TheRecorder_WithForwardSyncOff_RefusesNamingTheMigrationAndTheOption()
    {
        await using var harness = MigrationHarness.Create(_shared);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Recorder(harness).RecordChangeAsync(Id).AsTask()
        );

        Assert.Contains(MigrationHarness.MigrationName, error.Message, StringComparison.Ordinal);
        Assert.Contains("LazyMigrationOptions.ForwardSync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AForwardSyncItem_WhileTheOptionIsOff_IsNeverApplied_AndEndsDeadLettered()
    {
        await using var harness = await MigratedAsync();
        await using var off = AsyncWriteBack.Create(
            _shared,
            _outbox,
            o => (o.MaxAttempts, o.RetryDelay) = (1, TimeSpan.Zero)
        );
        await WriteThroughOldApiAsync(harness, LegacyWrite(1));

        await off.DrainAsync();

        Assert.Equal(Mapped(0), _shared.New.Peek(Id).Value);
        OutboxItem dead = Assert.Single(await off.Dispatcher.GetDeadLettersAsync());
        Assert.Contains("forward sync off", dead.LastError, StringComparison.Ordinal);
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
            .UseInMemoryOldStore(_shared.Old)
            .UseInMemoryNewStore(_shared.New);
        if (withOutbox)
        {
            builder.UseInMemoryOutbox(_outbox);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.ThrowsAny<Exception>(() =>
            provider.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>()
        );
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static NewCustomer Mapped(int n) => MigrationHarness.Mapped(n);

    private static IOldStoreChangeRecorder<OldCustomer, NewCustomer> Recorder(MigrationHarness harness) =>
        harness.Services.GetRequiredService<IOldStoreChangeRecorder<OldCustomer, NewCustomer>>();

    /// <summary>The old API's write as legacy code makes it: the old store first, then the one call that records it.
    /// </summary>
    private async Task WriteThroughOldApiAsync(MigrationHarness harness, OldCustomer record)
    {
        _shared.Old.Seed(Id, record);
        await Recorder(harness).RecordChangeAsync(Id);
    }

    /// <summary>An instance with Async write-back and forward sync over the shared stores and outbox.</summary>
    private MigrationHarness Create(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null,
        Action<OutboxOptions>? outbox = null
    ) =>
        AsyncWriteBack.Create(
            _shared,
            _outbox,
            outbox,
            b =>
            {
                b.Services.AddMetrics();
                configure?.Invoke(b);
            },
            o => o.ForwardSync = true
        );

    /// <summary>An instance whose entities (customer 0 by default) were read once, and so migrated.</summary>
    private async Task<MigrationHarness> MigratedAsync(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null,
        Action<OutboxOptions>? outbox = null,
        string[]? ids = null
    )
    {
        ids ??= [Id];
        for (int n = 0; n < ids.Length; n++)
        {
            _shared.Old.Seed(ids[n], MigrationHarness.Legacy(n));
        }

        MigrationHarness harness = Create(configure, outbox);
        Assert.Equal(ids.Length, (await harness.Repository.GetManyAsync(ids)).Count);
        await harness.DrainAsync();
        Assert.Empty(_outbox.Snapshot());
        return harness;
    }

    private static MetricCollector<long> Collect(MigrationHarness harness, string instrument) =>
        new(harness.Services.GetRequiredService<IMeterFactory>(), LazyMigrateTelemetry.MeterName, instrument);

    private static string? Tag(CollectedMeasurement<long> measurement, string name) =>
        measurement.Tags[$"lazymigrate.outbox.{name}"] as string;
}
