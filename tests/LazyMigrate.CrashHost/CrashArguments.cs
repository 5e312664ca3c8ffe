namespace LazyMigrate.CrashHost;

/// <summary>
/// The command line: the crash point first, then <c>key=value</c> pairs (ids comma-separated). Everything the test
/// checks afterwards comes from here, so the test and the child never disagree on the workload.
/// </summary>
internal sealed class CrashArguments
{
    public required string Point { get; init; }

    public required string ConnectionString { get; init; }

    public required string OldTable { get; init; }

    public required string NewTable { get; init; }

    public required string OutboxTable { get; init; }

    /// <summary>The ids read (and so migrated) first, in one batch.</summary>
    public required IReadOnlyList<string> Migrate { get; init; }

    /// <summary>The ids saved, each as <c>Customer.Create(id, SavedVersion)</c>.</summary>
    public required IReadOnlyList<string> Save { get; init; }

    public required IReadOnlyList<string> Delete { get; init; }

    public required int SavedVersion { get; init; }

    /// <summary>How many calls the crash point's gate lets through before it holds the rest.</summary>
    public required int Pass { get; init; }

    /// <summary>The lease of the child's claims.</summary>
    public required TimeSpan Lease { get; init; }

    public static CrashArguments Parse(string[] args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("The first argument is the crash point.", nameof(args));
        }

        var pairs = new KeyValueArguments(args.Skip(1));
        return new CrashArguments
        {
            Point = args[0],
            ConnectionString = pairs.Required("connection"),
            OldTable = pairs.Required("old"),
            NewTable = pairs.Required("new"),
            OutboxTable = pairs.Required("outbox"),
            Migrate = pairs.Ids("migrate"),
            Save = pairs.Ids("save"),
            Delete = pairs.Ids("delete"),
            SavedVersion = pairs.Number("saved-version", 2),
            Pass = pairs.Number("pass", 0),
            Lease = TimeSpan.FromSeconds(pairs.Number("lease-seconds", 30)),
        };
    }
}
