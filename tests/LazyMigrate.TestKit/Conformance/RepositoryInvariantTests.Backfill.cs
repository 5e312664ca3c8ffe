using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// The backfill (docs/backfill.md) on the adapter's stores and checkpoint store: it migrates exactly what nothing
/// moved, one <see cref="MigrationTrigger.Backfill"/> event per insert, never over a save or a tombstone; it resumes in
/// another instance from the checkpoint; it quarantines what cannot be migrated and goes on; and its dry run writes
/// nothing anywhere.
/// </summary>
public abstract partial class RepositoryInvariantTests
{
    private const int BackfillBatch = 40;

    /// <summary>
    /// Creates the checkpoint store the instances of a test share: the adapter's own, or by default one in memory.
    /// </summary>
    protected virtual Task<IBackfillCheckpointStore> CreateCheckpointStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(new InMemoryBackfillCheckpointStore());

    [Fact]
    public async Task Backfill_MigratesWhatNothingMoved_OneBackfillEventPerInsert_NeverOverASaveOrATombstone()
    {
        const int Ids = 250;
        var (old, counting) = await CreateStoresAsync(Ids);
        IBackfillCheckpointStore checkpoints = await CreateCheckpointStoreAsync();
        await using var instance = await CreateBackfillInstanceAsync(old, counting, checkpoints);
        var repository = Repository(instance);
        await repository.GetAsync(Id(0));
        await repository.SaveAsync(Id(1), Customer.Create(Id(1), 1001));
        await repository.DeleteAsync(Id(2));

        BackfillSummary summary = await Backfill(instance).RunAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(
            new BackfillCounts
            {
                Scanned = Ids,
                Migrated = Ids - 3,
                AlreadyPresent = 3,
            },
            summary.Counts
        );
        var stored = await counting.FindManyAsync([.. Enumerable.Range(0, Ids).Select(Id)]);
        Assert.Equal(1001, stored[Id(1)].Value!.Version);
        Assert.Equal(NewStoreState.Deleted, stored[Id(2)].State);
        Assert.All(Enumerable.Range(3, Ids - 3), n => Assert.Equal(n, stored[Id(n)].Value!.Version));
        Assert.Equal(Ids - 2, counting.InsertedCount); // the read's insert, and the backfill's

        await DrainEventsAsync();
        var backfilled = _events.Where(e => e.Trigger == MigrationTrigger.Backfill).ToList();
        Assert.Equal(Enumerable.Range(3, Ids - 3).Select(Id), backfilled.Select(e => e.EntityId).Order());
        Assert.Equal(backfilled.Count, backfilled.Select(e => e.EventId).Distinct().Count());

        BackfillCheckpoint? checkpoint = await checkpoints.LoadAsync(summary.Migration);
        Assert.True(checkpoint is { IsComplete: true }, "the checkpoint does not say the backfill is complete");
        Assert.Equal(summary.Counts, checkpoint.Counts);
        Assert.Equal(default, (await Backfill(instance).RunAsync()).Counts); // a complete backfill is not started over
    }

    [Fact]
    public async Task Backfill_StoppedAfterABatch_ResumesInAnotherInstanceFromTheCheckpoint_InsertingEachIdOnce()
    {
        const int Ids = 200;
        var (old, counting) = await CreateStoresAsync(Ids);
        IBackfillCheckpointStore checkpoints = await CreateCheckpointStoreAsync();
        using var stop = new CancellationTokenSource();
        var progress = new StopAfterFirstBatch(stop);
        await using (var first = await CreateBackfillInstanceAsync(old, counting, checkpoints))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                await Backfill(first).RunAsync(progress, stop.Token)
            );
        }

        BackfillCheckpoint? stopped = await checkpoints.LoadAsync(progress.Migration!);
        Assert.True(stopped is { IsComplete: false, Cursor: not null }, "no checkpoint was saved before the stop");

        await using var second = await CreateBackfillInstanceAsync(old, counting, checkpoints);
        BackfillSummary resumed = await Backfill(second).RunAsync();

        Assert.True(resumed.IsComplete);
        Assert.Equal(Ids, resumed.Total.Migrated);
        Assert.Equal(Ids, counting.InsertedCount);
        Assert.True(resumed.Counts.Scanned < Ids, "the second instance scanned from the start, not from the cursor");
        await DrainEventsAsync();
        Assert.Equal(Ids, _events.Count);
        Assert.Equal(Ids, _events.Select(e => e.EntityId).Distinct().Count());
    }

    [Fact]
    public async Task Backfill_AnUnmappableEntity_IsQuarantined_TheRestMigrates_AndARetryAfterTheFixMigratesIt()
    {
        const int Ids = 60;
        var (old, counting) = await CreateStoresAsync(Ids);
        bool broken = true;
        var mapper = new CountingMapper(failsFor: id => broken && id == Id(45));
        await using var instance = await CreateBackfillInstanceAsync(
            old,
            counting,
            await CreateCheckpointStoreAsync(),
            mapper
        );
        var backfill = Backfill(instance);

        BackfillSummary summary = await backfill.RunAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(
            new BackfillCounts
            {
                Scanned = Ids,
                Migrated = Ids - 1,
                Quarantined = 1,
            },
            summary.Counts
        );
        QuarantinedEntity quarantined = Assert.Single(await backfill.GetQuarantinedAsync());
        Assert.Equal(Id(45), quarantined.EntityId);
        Assert.StartsWith(nameof(MigrationMappingException), quarantined.Error, StringComparison.Ordinal);
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(45))).State);

        broken = false;
        QuarantineRetrySummary retry = await backfill.RetryQuarantinedAsync();

        Assert.Equal(new QuarantineRetrySummary(Retried: 1, Migrated: 1, Cleared: 0, StillQuarantined: 0), retry);
        Assert.Empty(await backfill.GetQuarantinedAsync());
        Assert.Equal(45, (await counting.FindAsync(Id(45))).Value!.Version);
        Assert.Equal(Ids, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Equal(Ids, _events.Count(e => e.Trigger == MigrationTrigger.Backfill));
    }

    [Fact]
    public async Task Backfill_ADamagedOldRecordInsideAPage_IsQuarantined_AndTheScanGoesOnPastIt()
    {
        const int Ids = 30;
        var (old, counting) = await CreateStoresAsync(Ids);
        await DamageOldRecordAsync(old, Id(17));
        await using var instance = await CreateBackfillInstanceAsync(old, counting, await CreateCheckpointStoreAsync());

        BackfillSummary summary = await Backfill(instance).RunAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(
            new BackfillCounts
            {
                Scanned = Ids,
                Migrated = Ids - 1,
                Quarantined = 1,
            },
            summary.Counts
        );
        QuarantinedEntity quarantined = Assert.Single(await Backfill(instance).GetQuarantinedAsync());
        Assert.Equal(Id(17), quarantined.EntityId);
        Assert.Contains(Id(17), quarantined.Error, StringComparison.Ordinal);
        var stored = await counting.FindManyAsync([.. Enumerable.Range(0, Ids).Select(Id)]);
        Assert.All(
            Enumerable.Range(0, Ids),
            n => Assert.Equal(n == 17 ? NewStoreState.Missing : NewStoreState.Found, StateOf(stored, Id(n)))
        );
    }

    [Fact]
    public async Task RetryQuarantined_ARecordStillDamaged_StaysQuarantined_WhileTheOthersMigrate()
    {
        const int Ids = 10;
        var (old, counting) = await CreateStoresAsync(Ids);
        bool broken = true;
        var mapper = new CountingMapper(failsFor: id => broken && id == Id(4));
        await DamageOldRecordAsync(old, Id(7));
        await using var instance = await CreateBackfillInstanceAsync(
            old,
            counting,
            await CreateCheckpointStoreAsync(),
            mapper
        );
        var backfill = Backfill(instance);
        Assert.Equal(2, (await backfill.RunAsync()).Counts.Quarantined);

        broken = false; // the mapper fixed, the record not
        QuarantineRetrySummary retry = await backfill.RetryQuarantinedAsync();

        Assert.Equal(new QuarantineRetrySummary(Retried: 2, Migrated: 1, Cleared: 0, StillQuarantined: 1), retry);
        QuarantinedEntity still = Assert.Single(await backfill.GetQuarantinedAsync());
        Assert.Equal(Id(7), still.EntityId);
        Assert.Equal(4, (await counting.FindAsync(Id(4))).Value!.Version);
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(7))).State);
    }

    [Fact]
    public async Task DryRun_MapsEveryEntity_CountsEveryFailure_AndWritesNothingAnywhere()
    {
        const int Ids = 90;
        var (old, counting) = await CreateStoresAsync(Ids);
        IBackfillCheckpointStore checkpoints = await CreateCheckpointStoreAsync();
        var mapper = new CountingMapper(failsFor: id => id == Id(50) || id == Id(70));
        await using var instance = await CreateBackfillInstanceAsync(old, counting, checkpoints, mapper);

        BackfillDryRunReport report = await Backfill(instance).DryRunAsync();

        Assert.Equal((Ids, Ids - 2, 2), (report.Scanned, report.Mapped, report.Failed));
        QuarantinedEntity kept = Assert.Single(report.Failures); // DryRunFailuresKept = 1: the others only counted
        Assert.Equal(Id(50), kept.EntityId);
        Assert.All(Enumerable.Range(0, Ids).Select(Id), id => Assert.Equal(1, mapper.MapCallsFor(id)));

        var stored = await counting.FindManyAsync([.. Enumerable.Range(0, Ids).Select(Id)]);
        Assert.All(Enumerable.Range(0, Ids), n => Assert.Equal(NewStoreState.Missing, StateOf(stored, Id(n))));
        Assert.Equal(0, counting.InsertedCount);
        Assert.Null(await checkpoints.LoadAsync(report.Migration));
        Assert.Empty(await checkpoints.GetQuarantinedAsync(report.Migration, null, 10));
        Assert.Empty((await StatisticsAsync(instance)).Pending);
        await DrainEventsAsync();
        Assert.Empty(_events);
    }

    /// <summary>What a batched read says of an id: a store may leave a missing one out.</summary>
    private static NewStoreState StateOf(IReadOnlyDictionary<string, NewStoreRead<Customer>> reads, string id) =>
        reads.TryGetValue(id, out NewStoreRead<Customer> read) ? read.State : NewStoreState.Missing;

    private static IBackfillRunner<LegacyCustomer, Customer> Backfill(IServiceProvider instance) =>
        instance.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();

    /// <summary>
    /// An instance whose backfill keeps its checkpoint in <paramref name="checkpoints"/>, in small batches.
    /// </summary>
    private Task<ServiceProvider> CreateBackfillInstanceAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        IBackfillCheckpointStore checkpoints,
        CountingMapper? mapper = null
    ) =>
        CreateInstanceAsync(
            old,
            neu,
            mapper: mapper,
            builder: b =>
                b.UseBackfillCheckpointStore(checkpoints)
                    .ConfigureBackfill(o =>
                    {
                        // Several batches over a few hundred entities, of one size whatever the machine's speed.
                        o.MinBatchSize = 10;
                        o.InitialBatchSize = BackfillBatch;
                        o.TargetBatchDuration = TimeSpan.Zero;
                        o.DryRunFailuresKept = 1;
                    })
        );

    /// <summary>Cancels the run as soon as the first batch's checkpoint is reported.</summary>
    private sealed class StopAfterFirstBatch(CancellationTokenSource stop) : IProgress<BackfillProgress>
    {
        /// <summary>Gets the migration the run reported, once it did.</summary>
        public string? Migration { get; private set; }

        public void Report(BackfillProgress value)
        {
            Migration = value.Migration;
            stop.Cancel();
        }
    }
}
