namespace LazyMigrate.Internal;

/// <summary>The default lease owner of a runner: readable in the lease table, unique per runner and process.</summary>
internal static class BackfillOwner
{
    public static string Create() =>
        $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
