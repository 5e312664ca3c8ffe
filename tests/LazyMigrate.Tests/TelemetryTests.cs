using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace LazyMigrate.Tests;

public sealed class TelemetryTests
{
    private static MigrationHarness CreateWithMeterFactory(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null
    ) =>
        MigrationHarness.Create(configure: b =>
        {
            b.Services.AddMetrics();
            configure?.Invoke(b);
        });

    [Fact]
    public async Task Reads_AreCountedBySource()
    {
        await using var harness = CreateWithMeterFactory().SeedLegacy(2);
        using var reads = harness.Collect(LazyMigrateTelemetry.ReadsInstrument);

        await harness.Repository.GetAsync(MigrationHarness.Id(0)); // old
        await harness.Repository.GetAsync(MigrationHarness.Id(0)); // new
        await harness.Repository.GetAsync("nobody"); // none

        var bySource = reads
            .GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags["lazymigrate.source"]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["old"] = 1,
                ["new"] = 1,
                ["none"] = 1,
            },
            bySource
        );
        Assert.All(
            reads.GetMeasurementSnapshot(),
            m => Assert.Equal("OldCustomer->NewCustomer", m.Tags["lazymigrate.migration"])
        );
    }

    [Fact]
    public async Task Migrations_AreCountedByOutcome_AndFailuresByKind()
    {
        await using var harness = CreateWithMeterFactory().SeedLegacy(2);
        using var migrations = harness.Collect(LazyMigrateTelemetry.MigrationsInstrument);
        using var failures = harness.Collect(LazyMigrateTelemetry.FailuresInstrument);
        harness.Mapper.FailWhen = old => old == MigrationHarness.Legacy(1);

        await harness.Repository.MigrateAsync(MigrationHarness.Id(0));
        await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.MigrateAsync(MigrationHarness.Id(1))
        );

        Assert.Contains(
            migrations.GetMeasurementSnapshot(),
            m =>
                (string)m.Tags["lazymigrate.outcome"]! == "migrated"
                && (string)m.Tags["lazymigrate.trigger"]! == "on_demand"
        );
        Assert.Contains(migrations.GetMeasurementSnapshot(), m => (string)m.Tags["lazymigrate.outcome"]! == "failed");
        Assert.Equal("mapping", Assert.Single(failures.GetMeasurementSnapshot()).Tags["lazymigrate.failure"]);
    }

    [Fact]
    public async Task AMigrationThatHitsADefect_CountsAFailedMigrationAndAFailurePerId()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        int reads = 0;
        // The read before the migration works; the re-read under the lock gets null.
        store.FindManyReturnsNull = () => ++reads > 1;
        await using var harness = MigrationHarness
            .Create(
                shared,
                configure: b =>
                {
                    b.Services.AddMetrics();
                    b.UseNewStore(store);
                }
            )
            .SeedLegacy(2);
        using var migrations = harness.Collect(LazyMigrateTelemetry.MigrationsInstrument);
        using var failures = harness.Collect(LazyMigrateTelemetry.FailuresInstrument);

        await Assert.ThrowsAsync<NullReferenceException>(async () =>
            await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1)])
        );

        Assert.Equal(
            2,
            migrations.GetMeasurementSnapshot().Count(m => (string)m.Tags["lazymigrate.outcome"]! == "failed")
        );
        Assert.Equal(2, failures.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task HandlerFailures_AreCounted()
    {
        var throwing = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        throwing
            .HandleAsync(default!, default)
            .ReturnsForAnyArgs(ValueTask.FromException(new InvalidOperationException()));
        await using var harness = CreateWithMeterFactory(b => b.AddHandler(_ => throwing)).SeedLegacy(1);
        using var failures = harness.Collect(LazyMigrateTelemetry.FailuresInstrument);

        await harness.Repository.GetAsync(MigrationHarness.Id(0));
        await harness.DrainAsync();

        Assert.Equal("handler", Assert.Single(failures.GetMeasurementSnapshot()).Tags["lazymigrate.failure"]);
    }

    [Fact]
    public async Task Meter_CarriesTheLibrarysVersion()
    {
        await using var harness = CreateWithMeterFactory().SeedLegacy(1);
        using var reads = harness.Collect(LazyMigrateTelemetry.ReadsInstrument);

        await harness.Repository.GetAsync(MigrationHarness.Id(0));

        Assert.Equal(TracingTests.LibraryVersion(), reads.Instrument!.Meter.Version);
    }

    [Fact]
    public async Task NoTag_EverCarriesAnEntityId()
    {
        await using var harness = CreateWithMeterFactory().SeedLegacy(3);
        using var reads = harness.Collect(LazyMigrateTelemetry.ReadsInstrument);
        using var migrations = harness.Collect(LazyMigrateTelemetry.MigrationsInstrument);

        await harness.Repository.GetManyAsync([MigrationHarness.Id(0), MigrationHarness.Id(1), MigrationHarness.Id(2)]);

        var values = reads
            .GetMeasurementSnapshot()
            .Concat(migrations.GetMeasurementSnapshot())
            .SelectMany(m => m.Tags.Values)
            .Select(v => v?.ToString() ?? "");
        Assert.DoesNotContain(values, v => v.StartsWith("customer-", StringComparison.Ordinal));
    }
}
