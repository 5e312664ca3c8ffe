using System.Diagnostics.Metrics;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/observability.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class ObservabilityExamplesTests : ContainerExample
{
    [Fact]
    public async Task MetricCollector_CountsTheReads()
    {
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        services.AddMetrics(); // Microsoft.Extensions.Diagnostics
        // ... AddLazyMigration, build the provider ...
        using var reads = new MetricCollector<long>(
            provider.GetRequiredService<IMeterFactory>(),
            LazyMigrateTelemetry.MeterName,
            LazyMigrateTelemetry.ReadsInstrument
        );

        await provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("c1");

        var read = Assert.Single(reads.GetMeasurementSnapshot());
        Assert.Equal(1, read.Value);
        Assert.Equal("none", read.Tags["lazymigrate.source"]); // in neither store
    }
}
