using System.Reflection;

namespace LazyMigrate.Internal;

/// <summary>
/// The package version, for the meter and the activity source: the informational version without its commit.
/// </summary>
internal static class LibraryVersion
{
    public static readonly string? Value = Read();

    private static string? Read()
    {
        string? version = typeof(LibraryVersion)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion;
        int plus = version?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        return plus < 0 ? version : version![..plus];
    }
}
