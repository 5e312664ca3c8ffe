using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace LazyMigrate.Benchmarks.Configuration;

/// <summary>
/// A job whose measured iterations all run fully optimized code: tiered compilation off in the benchmark process.
/// </summary>
/// <remarks>
/// With tiered compilation on, the runtime first runs unoptimized and then instrumented code, and promotes a method
/// only after a quiet moment with no new code to compile. On these 2 cores, shared with the PostgreSQL server, that
/// took 30 seconds and more: the lazy-migration iterations were still getting faster at the end of 20 warm-ups and 15
/// measured iterations, by up to a factor of two, and by a different amount in every process. With tiered compilation
/// off every method is compiled once, optimized, and the iterations are flat from the first. Every case of a class
/// runs the same way, so the comparison with the baseline stays fair; what it gives up is dynamic PGO.
/// </remarks>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SteadyStateJobAttribute : JobConfigBaseAttribute
{
    /// <param name="strategy">How BenchmarkDotNet runs each iteration.</param>
    /// <param name="launchCount">How many processes run each case.</param>
    /// <param name="warmupCount">Unmeasured iterations per process.</param>
    /// <param name="iterationCount">Measured iterations per process.</param>
    /// <param name="invocationCount">Invocations per iteration; 0 lets BenchmarkDotNet choose.</param>
    public SteadyStateJobAttribute(
        RunStrategy strategy,
        int launchCount,
        int warmupCount,
        int iterationCount,
        int invocationCount = 0
    )
        : base(Build(strategy, launchCount, warmupCount, iterationCount, invocationCount)) { }

    private static Job Build(
        RunStrategy strategy,
        int launchCount,
        int warmupCount,
        int iterationCount,
        int invocationCount
    )
    {
        Job job = new Job("SteadyState")
            .WithStrategy(strategy)
            .WithLaunchCount(launchCount)
            .WithWarmupCount(warmupCount)
            .WithIterationCount(iterationCount)
            .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_TieredCompilation", "0"));
        return invocationCount > 0 ? job.WithInvocationCount(invocationCount).WithUnrollFactor(1) : job;
    }
}
