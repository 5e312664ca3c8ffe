using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LazyMigrate.Benchmarks.Configuration;

/// <summary>
/// The baseline's median time divided by this case's: its throughput as a multiple of the baseline's, from medians.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's own <c>Ratio</c> divides means, and on a shared machine one burst of load in one process moves a
/// mean by tens of percent; the median of each case's iterations ignores such bursts. Above 1 is faster than the
/// baseline.
/// </remarks>
public sealed class MedianThroughputRatioColumn : IColumn
{
    public static readonly IColumn Instance = new MedianThroughputRatioColumn();

    public string Id => nameof(MedianThroughputRatioColumn);

    public string ColumnName => "Throughput vs baseline (medians)";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Baseline;

    public int PriorityInCategory => 10;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend =>
        "Baseline median / this median: throughput as a multiple of the baseline's (above 1 is faster)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkCase? baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        double? baselineMedian = baseline is null ? null : summary[baseline]?.ResultStatistics?.Median;
        double? median = summary[benchmarkCase]?.ResultStatistics?.Median;
        return baselineMedian is > 0 && median is > 0
            ? (baselineMedian.Value / median.Value).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)
            : "?";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public override string ToString() => ColumnName;
}
