using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LazyMigrate.Tests.Support;

/// <summary>What a harness's meter records: a collector of one of LazyMigrate's counters, and its tags.</summary>
public static class Measurements
{
    /// <summary>
    /// Collects <paramref name="instrument"/> from the harness's own meter factory (its container needs
    /// <c>AddMetrics</c>), so that no other test's measurements reach it.
    /// </summary>
    public static MetricCollector<long> Collect(this MigrationHarness harness, string instrument) =>
        new(harness.Services.GetRequiredService<IMeterFactory>(), LazyMigrateTelemetry.MeterName, instrument);

    /// <summary>The tag <c>lazymigrate.outbox.{name}</c> of a measurement (<c>kind</c>, <c>reason</c>).</summary>
    public static string? OutboxTag(this CollectedMeasurement<long> measurement, string name) =>
        measurement.Tags[$"lazymigrate.outbox.{name}"] as string;
}
