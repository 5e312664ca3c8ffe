using System.Globalization;
using LazyMigrate.TestKit.Servers;
using Xunit.Abstractions;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>
/// Invariant 7 across crashes: child processes (tests/LazyMigrate.CrashHost, <c>backfill</c>) run one backfill over
/// PostgreSQL stores, outbox and checkpoints, and are killed with SIGKILL mid-run; whoever runs next resumes from the
/// checkpoint. At the end every legacy customer is in the new store once, the outbox was given one event for each id
/// the migration inserted and no other, and each was delivered with one stable event id.
/// </summary>
[Collection("postgres")]
public sealed class BackfillCrashTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    public async Task KilledAtRandomPointsAndRestarted_EveryEntityOnce_EveryEventDelivered_NoApiWriteLost()
    {
        const int Entities = 30_000;
        const int Kills = 3;
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        await using var site = await BackfillCrashSite.CreateAsync(server, Entities);

        // Some read on demand first: the backfill finds them there, and their events come from those reads.
        string[] readFirst = site.Ids.Where((_, i) => i % 997 == 3).ToArray();
        await site.Repository.GetManyAsync(readFirst);

        var writers = new ApiWriters(site.Repository, site.Ids);
        using var stopWriting = new CancellationTokenSource();
        Task writing = writers.RunAsync(writers: 2, seed, stopWriting.Token);
        var childEvents = new List<(string Id, Guid EventId)>();

        // Each child is killed once the scan is past a random point, after a random count of further events: wherever
        // its batches in flight, its read-ahead and its dispatcher then are.
        int[] killPoints = Enumerable
            .Range(0, Kills)
            .Select(_ => random.Next(Entities / 10, Entities * 3 / 4))
            .Order()
            .ToArray();
        foreach (int killPoint in killPoints)
        {
            int eventsAfter = random.Next(0, 300);
            using CrashHostProcess child = site.StartChild($"run-{killPoint}");
            await child.WaitForAsync(words => words is ["PROGRESS", _, _] && Scanned(words) >= killPoint);
            int events = 0;
            await child.WaitForAsync(words => words is ["EVENT", _, _] && events++ >= eventsAfter);
            Assert.True(await child.KillAsync(), "The child ended before it was killed.");
            childEvents.AddRange(child.EveryEvent);
            Assert.False(await site.CheckpointCompleteAsync());
        }

        using (CrashHostProcess last = site.StartChild("last"))
        {
            Task<string[]> firstProgress = last.WaitForAsync(words => words is ["PROGRESS", _, _]);
            Task<string[]> done = last.WaitForAsync(words => words is ["DONE", _, _, _, _]);
            Assert.True(
                Number(await firstProgress, 2) >= killPoints[0],
                "The last run did not resume from a checkpoint."
            );
            string[] totals = await done;
            Assert.Equal(
                (Entities, Entities, 0L),
                (Number(totals, 1), Number(totals, 2) + Number(totals, 3), Number(totals, 4))
            );
            await stopWriting.CancelAsync();
            await writing;
            childEvents.AddRange(last.EveryEvent);
        }

        await site.DrainAfterTheChildrensLeasesAsync();
        Dictionary<string, long> recorded = await site.EventRecordsAsync();
        await AssertEveryEntityOnceAsync(site, writers.Expected);
        AssertOneEventPerInsert(site, recorded, writers.Expected);
        AssertEveryEventDelivered(recorded, [.. childEvents, .. site.Delivered]);
        Assert.Equal(0, await site.OutboxRowsAsync());
        output.WriteLine($"kills at {string.Join(", ", killPoints)}; {writers.Expected.Count} ids written by the API");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SharedByInstances_TheLeaseHolderKilled_AnotherTakesOver_EveryEntityMigratedOnce(int instances)
    {
        const int Entities = 20_000;
        await using var site = await BackfillCrashSite.CreateAsync(server, Entities);
        CrashHostProcess[] children = Enumerable
            .Range(0, instances)
            .Select(i => site.StartChild($"instance-{i}"))
            .ToArray();
        try
        {
            Task<string[]>[] done = children
                .Select(c => c.WaitForAsync(words => words is ["DONE", _, _, _, _]))
                .ToArray();
            Task<string[]>[] tookOver = children
                .Select(c => c.WaitForAsync(words => words is ["PROGRESS", _, _] && Number(words, 2) > 0))
                .ToArray();
            Task<CrashHostProcess>[] working = children
                .Select(async c =>
                {
                    await c.WaitForAsync(words => words is ["PROGRESS", _, _] && Scanned(words) >= Entities / 4);
                    return c;
                })
                .ToArray();

            // The one past a quarter of the scan holds the cursor lease: kill it there.
            CrashHostProcess holder = await await Task.WhenAny(working);
            Assert.True(await holder.KillAsync(), "The lease holder ended before it was killed.");
            CrashHostProcess[] survivors = children.Where(c => c != holder).ToArray();
            foreach (CrashHostProcess survivor in survivors)
            {
                string[] totals = await done[Array.IndexOf(children, survivor)];
                Assert.Equal((Entities, (long)Entities), (Number(totals, 1), Number(totals, 2) + Number(totals, 3)));
            }

            // One of them took the scan over from the dead holder's checkpoint, not from the start.
            Assert.Contains(survivors, s => tookOver[Array.IndexOf(children, s)].IsCompletedSuccessfully);
            await site.DrainAfterTheChildrensLeasesAsync();
            Dictionary<string, long> recorded = await site.EventRecordsAsync();
            Assert.Equal(site.Ids, recorded.Keys.Order(StringComparer.Ordinal));
            Assert.All(recorded, r => Assert.True(r.Value == 1, $"{r.Key}'s event was recorded {r.Value} times."));
            await AssertEveryEntityOnceAsync(site, new Dictionary<string, int?>());
            AssertEveryEventDelivered(recorded, [.. children.SelectMany(c => c.EveryEvent), .. site.Delivered]);
        }
        finally
        {
            foreach (CrashHostProcess child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>
    /// One row per legacy customer: what the API wrote last to an id it wrote (its version, or a tombstone), and the
    /// migrated version 1 elsewhere; so no write was overwritten by the backfill and no delete resurrected.
    /// </summary>
    private static async Task AssertEveryEntityOnceAsync(
        BackfillCrashSite site,
        IReadOnlyDictionary<string, int?> written
    )
    {
        Dictionary<string, int?> rows = await site.NewRowsAsync();
        Assert.Equal(site.Ids, rows.Keys.Order(StringComparer.Ordinal));
        foreach (string id in site.Ids)
        {
            int? expected = written.TryGetValue(id, out int? last) ? last : 1;
            Assert.True(expected == rows[id], $"{id} holds version {rows[id]}, not {expected}.");
        }
    }

    /// <summary>
    /// The outbox was given one event for an id at most, and one for every id the API had not written before the
    /// migration reached it: an id with none is one the API wrote first.
    /// </summary>
    private static void AssertOneEventPerInsert(
        BackfillCrashSite site,
        Dictionary<string, long> recorded,
        IReadOnlyDictionary<string, int?> written
    )
    {
        Assert.All(recorded, r => Assert.True(r.Value == 1, $"{r.Key}'s event was recorded {r.Value} times."));
        string[] unrecorded = site.Ids.Where(id => !recorded.ContainsKey(id)).ToArray();
        Assert.All(unrecorded, id => Assert.True(written.ContainsKey(id), $"{id} was neither migrated nor written."));

        // Both orders happened: some ids were written before the migration reached them, some after.
        Assert.NotEmpty(unrecorded);
        Assert.Contains(written.Keys, recorded.ContainsKey);
    }

    /// <summary>Exactly the recorded ids delivered, each always with one event id, no two ids with the same.</summary>
    private static void AssertEveryEventDelivered(
        Dictionary<string, long> recorded,
        IReadOnlyCollection<(string Id, Guid EventId)> delivered
    )
    {
        Dictionary<string, Guid[]> byId = delivered
            .GroupBy(e => e.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.EventId).Distinct().ToArray(), StringComparer.Ordinal);
        Assert.Equal(recorded.Keys.Order(StringComparer.Ordinal), byId.Keys.Order(StringComparer.Ordinal));
        Assert.All(
            byId,
            e => Assert.True(e.Value.Length == 1, $"{e.Key} was delivered with {e.Value.Length} event ids.")
        );
        Assert.Equal(byId.Count, byId.Values.Select(e => e[0]).Distinct().Count());
    }

    /// <summary>The scan's position a <c>PROGRESS</c> line reports: this run's scanned and the earlier runs'.</summary>
    private static long Scanned(string[] words) => Number(words, 1) + Number(words, 2);

    private static long Number(string[] words, int index) => long.Parse(words[index], CultureInfo.InvariantCulture);
}
