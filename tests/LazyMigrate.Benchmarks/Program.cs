using BenchmarkDotNet.Running;
using LazyMigrate.Benchmarks.Probe;

if (args is ["--probe", ..])
{
    // A quick interleaved comparison on one PostgreSQL server, for development (see InterleavedThroughputProbe).
    await InterleavedThroughputProbe.RunAsync(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
