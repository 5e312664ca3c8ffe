using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore.Tests.Backfill;

/// <summary>
/// A backfill over the EF Core old and new stores with the EF Core checkpoint store, on one SQLite file: cancelled
/// mid-way, it resumes in another container (another process, as far as the store can tell) from its checkpoint.
/// </summary>
public sealed class BackfillResumeTests : IAsyncLifetime
{
    private const int Entities = 200;
    private const int BatchSize = 20;

    private readonly SqliteFiles _files = new(writeAheadLog: false);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _files.DisposeAsync().AsTask();

    [Fact]
    public async Task Backfill_CancelledMidway_ResumesInAnotherContainer_AndMigratesEveryEntityOnce()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            context.LegacyCustomers.AddRange(
                Enumerable.Range(0, Entities).Select(i => LegacyCustomer.Create($"c-{i:D4}", 1))
            );
            await context.SaveChangesAsync();
        }

        var mapper = new CountingMapper();
        using var cancel = new CancellationTokenSource();
        long scannedBeforeStop;
        await using (ServiceProvider first = Container(db.ConnectionString, mapper, "first"))
        {
            // Two read on demand before any backfill: the backfill finds them already there.
            var repository = first.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
            await repository.GetAsync("c-0003");
            await repository.GetAsync("c-0150");
            var runner = first.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
            var progress = new Synchronous(p =>
            {
                if (p.Counts.Scanned >= 3 * BatchSize)
                {
                    cancel.Cancel();
                }
            });

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                runner.RunAsync(progress, cancel.Token).AsTask()
            );
            BackfillCheckpoint? stopped = await runner.GetCheckpointAsync();
            Assert.NotNull(stopped);
            Assert.False(stopped.IsComplete);
            // The stop checkpoints the batches in flight (up to MaxBatchesInFlight), so it lands on a whole batch
            // at or past the one that cancelled, and short of the end.
            Assert.Equal(0, stopped.Counts.Scanned % BatchSize);
            Assert.InRange(stopped.Counts.Scanned, 3 * BatchSize, Entities - BatchSize);
            scannedBeforeStop = stopped.Counts.Scanned;
        }

        await using ServiceProvider second = Container(db.ConnectionString, mapper, "second");
        var resumed = second.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();

        BackfillSummary summary = await resumed.RunAsync();

        Assert.True(summary.IsComplete);
        Assert.Equal(Entities - scannedBeforeStop, summary.Counts.Scanned);
        Assert.Equal(Entities, summary.Total.Scanned);
        Assert.Equal(Entities - 2, summary.Total.Migrated);
        Assert.Equal(2, summary.Total.AlreadyPresent);
        Assert.Equal(Entities, mapper.MapCalls.Count);
        // Nothing is mapped twice across the stop. The two read on demand are mapped again by the backfill, which
        // maps what it scanned and lets insert-if-absent find them already there.
        Assert.All(mapper.MapCalls, calls => Assert.Equal(calls.Key is "c-0003" or "c-0150" ? 2 : 1, calls.Value));
        await using (StoreDb context = db.CreateDbContext())
        {
            Assert.Equal(Entities, await context.Customers.CountAsync());
            LazyMigrateBackfillCheckpoint row = await context.Set<LazyMigrateBackfillCheckpoint>().SingleAsync();
            Assert.True(row.IsComplete);
            Assert.Null(row.LeaseOwner);
        }

        Assert.True(
            (await new EntityFrameworkCoreBackfillCheckpointStore<StoreDb>(db).LoadAsync(summary.Migration))!.IsComplete
        );
    }

    [Fact]
    public async Task CountAfter_CountsWhatAScanFromTheSameCursorReturns()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            context.LegacyCustomers.AddRange(new[] { "a", "B", "b", "c" }.Select(id => LegacyCustomer.Create(id, 1)));
            await context.SaveChangesAsync();
        }

        var store = new EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string>(
            db,
            d => d.LegacyCustomers,
            c => c.Id
        );

        Assert.Equal(4, await store.CountAfterAsync(null));
        Assert.Equal(3, await store.CountAfterAsync("B"));
        Assert.Equal(1, await store.CountAfterAsync("b"));
        Assert.Equal(0, await store.CountAfterAsync("c"));
    }

    private static ServiceProvider Container(string connectionString, CountingMapper mapper, string instance)
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(connectionString));
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(mapper)
            .UseEntityFrameworkCoreOldStore((StoreDb d) => d.LegacyCustomers, c => c.Id)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseEntityFrameworkCoreBackfillCheckpoints<LegacyCustomer, Customer, StoreDb>()
            .UseInMemoryLock()
            .ConfigureBackfill(o =>
            {
                o.InitialBatchSize = BatchSize;
                o.MinBatchSize = BatchSize;
                o.MaxBatchSize = BatchSize;
                o.InstanceId = instance;
            });
        return services.BuildServiceProvider();
    }

    /// <summary>Reports on the runner's own thread, so that a cancellation lands before the next batch.</summary>
    private sealed class Synchronous(Action<BackfillProgress> report) : IProgress<BackfillProgress>
    {
        public void Report(BackfillProgress value) => report(value);
    }
}
