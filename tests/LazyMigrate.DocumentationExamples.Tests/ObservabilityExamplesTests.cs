using System.Diagnostics;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace LazyMigrate.DocumentationExamples.Tests;

/// <summary>
/// The OpenTelemetry example of docs/observability.md, verbatim; DocumentationCoverageTests checks that it stays so.
/// </summary>
public sealed class ObservabilityExamplesTests
{
    [Fact]
    public async Task OpenTelemetry_ListensToLazyMigratesMeterAndActivitySource()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        builder
            .Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(LazyMigrateTelemetry.MeterName))
            .WithTracing(tracing => tracing.AddSource(LazyMigrateTelemetry.ActivitySourceName));

        var exported = new CollectingExporter(); // what an exporter package would send on
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics =>
            metrics.AddReader(new BaseExportingMetricReader(exported))
        );
        using IHost host = builder.Build();
        MeterProvider meters = host.Services.GetRequiredService<MeterProvider>(); // the host disposes both
        host.Services.GetRequiredService<TracerProvider>();

        await host.Services.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("c1");
        meters.ForceFlush();

        Assert.Contains(LazyMigrateTelemetry.ReadsInstrument, exported.Names); // the LazyMigrate meter is read
        using var source = new ActivitySource(LazyMigrateTelemetry.ActivitySourceName);
        Assert.True(source.HasListeners()); // and its activity source listened to
    }

    private sealed class CollectingExporter : BaseExporter<Metric>
    {
        public HashSet<string> Names { get; } = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (Metric metric in batch)
            {
                Names.Add(metric.Name);
            }

            return ExportResult.Success;
        }
    }
}
