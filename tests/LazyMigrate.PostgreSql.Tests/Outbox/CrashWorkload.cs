namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>What the child does before its crash point: ids it migrates, saves and deletes.</summary>
internal sealed class CrashWorkload
{
    public const int SavedVersion = 2;

    /// <summary>Twelve ids seeded in the old store and migrated by the child.</summary>
    public IReadOnlyList<string> Migrate { get; init; } = [.. Enumerable.Range(0, 12).Select(i => $"c{i}")];

    /// <summary>Five migrated ids, and two only the new API ever wrote.</summary>
    public IReadOnlyList<string> Save { get; init; } = ["c0", "c1", "c2", "c3", "c4", "fresh0", "fresh1"];

    public IReadOnlyList<string> Delete { get; init; } = ["c5", "c6", "c7"];

    /// <summary>Every id the workload touches.</summary>
    public IEnumerable<string> All => Migrate.Union(Save);

    public static CrashWorkload MigrateOnly { get; } = new() { Save = [], Delete = [] };
}
