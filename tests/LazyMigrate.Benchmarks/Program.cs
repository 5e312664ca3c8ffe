using BenchmarkDotNet.Running;
using LazyMigrate.Benchmarks.Probe;

if (args is ["--probe-table", ..])
{
    // The table store beside hand-written Npgsql code, interleaved on one server (see TableStoreProbe).
    await TableStoreProbe.RunAsync(args);
    return;
}

if (args is ["--probe-lag", ..])
{
    // The dispatcher's lag under a steady Async write load on one PostgreSQL server (see OutboxLagProbe).
    await OutboxLagProbe.RunAsync(args);
    return;
}

if (args is ["--probe-save", ..])
{
    // Saves with Async write-back beside saves without, interleaved on one server (see OutboxSaveProbe).
    await OutboxSaveProbe.RunAsync(args);
    return;
}

if (args is ["--probe-backfill", ..])
{
    // One backfill of a PostgreSQL legacy table: its memory, and with --trace where its time goes (see BackfillProbe).
    await BackfillProbe.RunAsync(args);
    return;
}

if (args is ["--probe-sqlite-backfill", ..])
{
    // Where the time of the EF Core backfill on SQLite goes, beside the hand-written loop (see SqliteBackfillProbe).
    await SqliteBackfillProbe.RunAsync(args);
    return;
}

if (args is ["--probe-capture", ..])
{
    // Legacy writes captured by logical decoding: the writes, the tail, and the CPU (see LogicalCaptureProbe).
    await LogicalCaptureProbe.RunAsync(args);
    return;
}

if (args is ["--probe-trigger", ..])
{
    // Legacy writes with and without the capture trigger, round by round on one server (see CaptureTriggerProbe).
    await CaptureTriggerProbe.RunAsync(args);
    return;
}

if (args is ["--probe", ..])
{
    // A quick interleaved comparison on one PostgreSQL server, for development (see InterleavedThroughputProbe).
    await InterleavedThroughputProbe.RunAsync(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
