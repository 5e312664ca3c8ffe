using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/backfill.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class BackfillExamplesTests
{
    [Fact]
    public async Task ABackfill_MigratesEveryOldEntity_ReportingItsProgress()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        for (int n = 1; n <= 2_500; n++)
        {
            oldStore.Seed($"c{n:D5}", new LegacyCustomer($"Customer{n} Example", "(555) 010-0000"));
        }

        services.AddMigrationMapper<CustomerMapper>();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseOldStore(oldStore)
            .UseInMemoryNewStore()
            .UseInMemoryLock()
            // UsePostgreSqlBackfillCheckpoints or UseEntityFrameworkCoreBackfillCheckpoints in production
            .UseBackfillCheckpointStore(new InMemoryBackfillCheckpointStore())
            .ConfigureBackfill(o =>
            {
                o.TargetBatchDuration = TimeSpan.FromMilliseconds(500); // batch size adapts toward it
                o.MaxEntitiesPerSecond = 5_000; // leave the old database room for the service
            });
        services.AddLazyMigrationBackfill(); // in a host: runs it in the background, on every instance

        await using ServiceProvider provider = services.BuildServiceProvider();
        var backfill = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();

        var progress = new Progress<BackfillProgress>(p =>
            Console.WriteLine($"{p.Counts.Scanned} of {p.Remaining} scanned, {p.EntitiesPerSecond:F0}/s")
        );
        BackfillSummary summary = await backfill.RunAsync(progress);

        Assert.True(summary.IsComplete);
        Assert.Equal(2_500, summary.Counts.Migrated);
    }

    [Fact]
    public async Task ADryRun_FindsWhatTheMapperRejects_AndARetryAfterTheFix_ClearsTheQuarantine()
    {
        var services = new ServiceCollection();
        var oldStore = new InMemoryOldStore<LegacyCustomer>();
        oldStore.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));
        oldStore.Seed("c2", new LegacyCustomer("Cher", "(555) 010-0002")); // no last name: the mapper throws

        services.AddMigrationMapper<CustomerMapper>();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseOldStore(oldStore)
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        await using ServiceProvider provider = services.BuildServiceProvider();
        var backfill = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();

        // Prove the mapper first: every old entity mapped, nothing written anywhere.
        BackfillDryRunReport dryRun = await backfill.DryRunAsync();
        Assert.Equal(1, dryRun.Failed);
        Assert.Equal("c2", dryRun.Failures[0].EntityId);

        BackfillSummary summary = await backfill.RunAsync();
        Assert.Equal(1, summary.Counts.Quarantined);
        IReadOnlyList<QuarantinedEntity> quarantined = await backfill.GetQuarantinedAsync();
        Assert.StartsWith("MigrationMappingException", quarantined[0].Error);

        oldStore.Seed("c2", new LegacyCustomer("Cher Sarkisian", "(555) 010-0002")); // the data, fixed
        QuarantineRetrySummary retry = await backfill.RetryQuarantinedAsync();
        Assert.Equal(1, retry.Migrated);
        Assert.Empty(await backfill.GetQuarantinedAsync());
    }

    [Fact]
    public async Task AThrottle_HoldsTheBackfillWhileTheOldDatabaseIsBusy()
    {
        double load = 0.9;
        var throttle = new OldDatabaseThrottle(() => load);
        var context = new BackfillThrottleContext("m", 100, TimeSpan.Zero);

        TimeSpan busy = await throttle.GetDelayAsync(context, CancellationToken.None);
        load = 0.2;
        TimeSpan idle = await throttle.GetDelayAsync(context, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(30), busy);
        Assert.Equal(TimeSpan.Zero, idle);
    }
}

/// <summary>Holds the backfill while the old database is busy.</summary>
public sealed class OldDatabaseThrottle(Func<double> cpuLoad) : IBackfillThrottle
{
    public ValueTask<TimeSpan> GetDelayAsync(BackfillThrottleContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(cpuLoad() > 0.8 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero);
}
