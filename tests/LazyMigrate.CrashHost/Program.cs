using LazyMigrate.CrashHost;

// Runs one crash scenario to its crash point, prints "READY <point>" and stays there, blocked in a gate, until the
// test kills the process (CrashScenario); or runs a backfill to its end, to be killed anywhere on the way
// (BackfillCrashHost). A test that dies first closes standard input, which ends the first kind too.
if (args is [BackfillCrashHost.Point, ..])
{
    await BackfillCrashHost.RunAsync(args);
    return;
}

CrashArguments arguments = CrashArguments.Parse(args);
CrashMigration migration = CrashMigration.Build(arguments);
await CrashScenario.RunToCrashPointAsync(migration, arguments);
Console.Out.WriteLine($"READY {arguments.Point}");
await Console.In.ReadToEndAsync();
Environment.Exit(3);
