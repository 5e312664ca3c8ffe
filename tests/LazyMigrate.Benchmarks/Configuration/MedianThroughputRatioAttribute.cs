using BenchmarkDotNet.Attributes;

namespace LazyMigrate.Benchmarks.Configuration;

/// <summary>Adds <see cref="MedianThroughputRatioColumn"/> to a benchmark class's summary.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class MedianThroughputRatioAttribute : ColumnConfigBaseAttribute
{
    public MedianThroughputRatioAttribute()
        : base(MedianThroughputRatioColumn.Instance) { }
}
