namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// The compiled capture trigger's server module (<c>extensions/lazymigrate_capture</c>, built by the test command), as
/// the throwaway PostgreSQL servers load it: copied into a folder of the server's own, on its
/// <c>dynamic_library_path</c>, since the user the server runs as may not read the repository's folder.
/// </summary>
internal static class CompiledCapture
{
    /// <summary>The folder, in the server's temporary folder, that holds the module.</summary>
    public const string Folder = "lib";

    private const string Module = "lazymigrate_capture.so";

    /// <summary>
    /// Copies the built module into <paramref name="folder"/>. A module not built leaves the folder empty: the tests of
    /// the compiled capture then fail, saying that PostgreSQL could not load it.
    /// </summary>
    public static void CopyInto(string folder)
    {
        Directory.CreateDirectory(folder);
        if (Built() is { } module)
        {
            File.Copy(module, Path.Combine(folder, Module), overwrite: true);
        }
    }

    /// <summary>The built module in the repository that holds the running tests, if there is one.</summary>
    private static string? Built()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "LazyMigrate.sln")))
            {
                string module = Path.Combine(folder.FullName, "extensions", "lazymigrate_capture", Module);
                return File.Exists(module) ? module : null;
            }
        }

        return null;
    }
}
