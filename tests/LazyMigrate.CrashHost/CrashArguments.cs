using System.Globalization;

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

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string arg in args.Skip(1))
        {
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"Expected key=value, got '{arg}'.", nameof(args));
            }

            pairs[arg[..equals]] = arg[(equals + 1)..];
        }

        return new CrashArguments
        {
            Point = args[0],
            ConnectionString = Required(pairs, "connection"),
            OldTable = Required(pairs, "old"),
            NewTable = Required(pairs, "new"),
            OutboxTable = Required(pairs, "outbox"),
            Migrate = Ids(pairs, "migrate"),
            Save = Ids(pairs, "save"),
            Delete = Ids(pairs, "delete"),
            SavedVersion = Number(pairs, "saved-version", 2),
            Pass = Number(pairs, "pass", 0),
            Lease = TimeSpan.FromSeconds(Number(pairs, "lease-seconds", 30)),
        };
    }

    private static string Required(Dictionary<string, string> pairs, string key) =>
        pairs.TryGetValue(key, out string? value) ? value : throw new ArgumentException($"{key}= is missing.");

    private static string[] Ids(Dictionary<string, string> pairs, string key) =>
        pairs.TryGetValue(key, out string? value) ? value.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];

    private static int Number(Dictionary<string, string> pairs, string key, int fallback) =>
        pairs.TryGetValue(key, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
