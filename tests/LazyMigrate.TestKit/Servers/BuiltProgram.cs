using System.Reflection;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// Finds a program a test runs as a child process: its dll's path, which the test project's build recorded in the test
/// assembly as <c>[AssemblyMetadata(key, path)]</c> (a project reference with <c>ReferenceOutputAssembly="false"</c>).
/// </summary>
public static class BuiltProgram
{
    /// <summary>Gets the path recorded under <paramref name="key"/> in <paramref name="marker"/>'s assembly.</summary>
    /// <param name="marker">A type of the test assembly.</param>
    /// <param name="key">The metadata key, for example <c>"QuickStartPath"</c>.</param>
    /// <exception cref="InvalidOperationException">The build recorded no such path.</exception>
    public static string PathOf(Type marker, string key) =>
        marker.Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The build recorded no {key} in {marker.Assembly.GetName().Name}.");
}
