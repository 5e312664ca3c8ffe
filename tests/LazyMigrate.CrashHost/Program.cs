using LazyMigrate.CrashHost;

// Runs one crash scenario (CrashScenario) to its crash point, prints "READY <point>" and stays there, blocked in a
// gate, until the test kills the process. A test that dies first closes standard input, which ends the process too.
CrashArguments arguments = CrashArguments.Parse(args);
CrashMigration migration = CrashMigration.Build(arguments);
await CrashScenario.RunToCrashPointAsync(migration, arguments);
Console.Out.WriteLine($"READY {arguments.Point}");
await Console.In.ReadToEndAsync();
Environment.Exit(3);
