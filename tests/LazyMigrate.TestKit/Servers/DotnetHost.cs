using System.Runtime.InteropServices;

namespace LazyMigrate.TestKit.Servers;

/// <summary>The <c>dotnet</c> host running the tests, which runs the child processes' dlls too.</summary>
public static class DotnetHost
{
    /// <summary>Gets the host's path: the test runner's <c>DOTNET_HOST_PATH</c>, else the runtime's own host.</summary>
    public static string Path =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host
            ? host
            : System.IO.Path.GetFullPath(
                System.IO.Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "../../../dotnet")
            );
}
