using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// Invariants 4 and 10 across a crash: a child process (tests/LazyMigrate.CrashHost) migrates and writes through
/// PostgreSQL stores and outbox, reaches a crash point held by a gate, and is killed with SIGKILL there. Another
/// instance (<see cref="CrashSurvivor"/>, in this process) then drains the outbox: every migrated id's event is
/// delivered at least once with its stable event id, every save and delete reaches the old store, nothing is left.
/// </summary>
[Collection("postgres")]
public sealed class CrashTests(PostgresServer server)
{
    [Fact]
    public async Task KilledRightAfterItsMigrationInsertsCommitted_AnotherProcessDeliversEveryEvent()
    {
        CrashWorkload workload = CrashWorkload.MigrateOnly;
        await using var survivor = new CrashSurvivor(server);
        var childSaw = await CrashAsync(
            survivor,
            "migrated",
            workload,
            async () =>
                Assert.Equal(
                    workload.Migrate.Count,
                    await survivor.OutboxRowsAsync($"kind = {(short)OutboxItemKind.EntityMigrated}")
                )
        );

        await AssertRecoveredAsync(survivor, workload, childSaw);
    }

    /// <param name="point">Async: the saves and deletes returned, nothing written back. Sync: every one is held
    /// inside its inline old-store write, under its entity's advisory lock.</param>
    [Theory]
    [InlineData("async-saved")]
    [InlineData("sync-in-old-write")]
    public async Task KilledBeforeTheWriteBacksOfCommittedSavesAndDeletes_AnotherProcessWritesEveryOneBack(string point)
    {
        var workload = new CrashWorkload();
        await using var survivor = new CrashSurvivor(server);
        var childSaw = await CrashAsync(
            survivor,
            point,
            workload,
            () => AssertNothingWrittenBackYetAsync(survivor, workload)
        );

        await AssertRecoveredAsync(survivor, workload, childSaw);
    }

    [Fact]
    public async Task KilledMidBatchAfterFourWriteBacks_AnotherProcessTakesOverTheLeases_AndRepairsEveryOne()
    {
        const int Applied = 4;
        var workload = new CrashWorkload();
        await using var survivor = new CrashSurvivor(server);

        // The child's dispatcher claimed every item (ten write-backs, twelve events), applied four write-backs and is
        // held in the fifth old-store write: nothing completed.
        var childSaw = await CrashAsync(
            survivor,
            "batch-write-backs",
            workload,
            async () =>
            {
                long items = workload.Save.Count + workload.Delete.Count + workload.Migrate.Count;
                Assert.Equal(items, await survivor.OutboxRowsAsync("lease_owner IS NOT NULL"));
                Assert.Equal(Applied, await WrittenBackCountAsync(survivor, workload));
            },
            pass: Applied
        );

        // The dead child's leases still hold: nothing is claimable before they end.
        Assert.Equal(0, await survivor.Dispatcher.RunOnceAsync());
        await AssertRecoveredAsync(survivor, workload, childSaw);
    }

    [Fact]
    public async Task KilledInAHandlerMidBatch_AnotherProcessRedeliversEveryEvent_WithTheEventIdsTheChildSaw()
    {
        const int Handled = 5;
        CrashWorkload workload = CrashWorkload.MigrateOnly;
        await using var survivor = new CrashSurvivor(server);
        var childSaw = await CrashAsync(
            survivor,
            "batch-events",
            workload,
            async () => Assert.Equal(workload.Migrate.Count, await survivor.OutboxRowsAsync("lease_owner IS NOT NULL")),
            pass: Handled
        );

        // Five handled but not completed, the sixth in its handler when the child died.
        Assert.Equal(Handled + 1, childSaw.Count);
        Assert.Equal(0, await survivor.Dispatcher.RunOnceAsync());
        await AssertRecoveredAsync(survivor, workload, childSaw);
    }

    /// <summary>
    /// Seeds the old store, runs the child to its crash point, checks the state there, kills the child with SIGKILL
    /// and waits for the server to end its sessions; returns the events the child's handler was given.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, Guid>> CrashAsync(
        CrashSurvivor survivor,
        string point,
        CrashWorkload workload,
        Func<Task> atTheCrashPoint,
        int pass = 0
    )
    {
        await survivor.SeedAsync(workload.Migrate);
        using var child = await CrashHostProcess.StartAtAsync(point, survivor.ChildArguments(workload, pass));
        await atTheCrashPoint();
        Assert.True(await child.KillAsync(), $"The child had left its crash point {point} before it was killed.");
        await survivor.ChildSessionsEndedAsync();
        return child.Events;
    }

    /// <summary>Once this process drained the outbox: every event delivered, every write back, nothing left.</summary>
    private static async Task AssertRecoveredAsync(
        CrashSurvivor survivor,
        CrashWorkload workload,
        IReadOnlyDictionary<string, Guid> childSaw
    )
    {
        await survivor.DrainAfterTheChildsLeasesAsync();
        AssertEveryEventDelivered(survivor, workload, childSaw);
        await AssertOldStoreFollowsTheNewStoreAsync(survivor, workload);
        Assert.Equal(0, await survivor.OutboxRowsAsync());
    }

    /// <summary>
    /// Each migrated id's event, delivered here at least once, always with one event id, its own, the one the child's
    /// handler was given too; with the values as of the migration, whatever was written after.
    /// </summary>
    private static void AssertEveryEventDelivered(
        CrashSurvivor survivor,
        CrashWorkload workload,
        IReadOnlyDictionary<string, Guid> childSaw
    )
    {
        Dictionary<string, Guid[]> delivered = survivor
            .Delivered.GroupBy(e => e.EntityId)
            .ToDictionary(g => g.Key, g => g.Select(e => e.EventId).Distinct().ToArray());
        Assert.Equal(workload.Migrate.Order(), delivered.Keys.Order());
        foreach (var (id, eventIds) in delivered)
        {
            Assert.True(eventIds.Length == 1, $"{id} was delivered with {eventIds.Length} event ids.");
            if (childSaw.TryGetValue(id, out Guid before))
            {
                Assert.True(before == eventIds[0], $"{id}: the child saw {before}, the survivor {eventIds[0]}.");
            }
        }

        Assert.Equal(delivered.Count, delivered.Values.Select(e => e[0]).Distinct().Count());
        Assert.All(survivor.Delivered, e => Assert.Equal((1, 1), (e.OldValue.Version, e.NewValue.Version)));
    }

    /// <summary>
    /// The old store holds the reverse mapping of what the new store holds for every id the workload touched: saved
    /// ids at the saved version, deleted ids gone, ids only migrated as they were.
    /// </summary>
    private static async Task AssertOldStoreFollowsTheNewStoreAsync(CrashSurvivor survivor, CrashWorkload workload)
    {
        var mapper = new CustomerMapper();
        foreach (string id in workload.All)
        {
            Customer? current = await survivor.Repository.GetAsync(id);
            LegacyCustomer? old = await survivor.Old.FindAsync(id);
            int? expected =
                workload.Delete.Contains(id) ? null
                : workload.Save.Contains(id) ? CrashWorkload.SavedVersion
                : 1;
            string? mappedBack = current is null ? null : mapper.MapBack(current).FullName;
            Assert.Equal((id, expected, mappedBack, expected), (id, current?.Version, old?.FullName, old?.Version));
        }
    }

    /// <summary>The new store holds every save and delete, the old store none of them.</summary>
    private static async Task AssertNothingWrittenBackYetAsync(CrashSurvivor survivor, CrashWorkload workload)
    {
        Assert.Equal(0, await WrittenBackCountAsync(survivor, workload));
        foreach (string id in workload.Save)
        {
            Assert.Equal(CrashWorkload.SavedVersion, (await survivor.Repository.GetAsync(id))?.Version);
        }

        foreach (string id in workload.Delete)
        {
            Assert.Null(await survivor.Repository.GetAsync(id));
        }
    }

    /// <summary>How many of the workload's saves and deletes the old store shows.</summary>
    private static async Task<int> WrittenBackCountAsync(CrashSurvivor survivor, CrashWorkload workload)
    {
        int written = 0;
        foreach (string id in workload.Save)
        {
            written += (await survivor.Old.FindAsync(id))?.Version == CrashWorkload.SavedVersion ? 1 : 0;
        }

        foreach (string id in workload.Delete)
        {
            written += await survivor.Old.FindAsync(id) is null ? 1 : 0;
        }

        return written;
    }
}
