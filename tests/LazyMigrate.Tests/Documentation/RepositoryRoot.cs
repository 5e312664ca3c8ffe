namespace LazyMigrate.Tests.Documentation;

/// <summary>The repository these tests were built from: the first folder above them holding LazyMigrate.sln.</summary>
internal static class RepositoryRoot
{
    public static readonly string Path = Find();

    private static string Find()
    {
        for (
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            directory is not null;
            directory = directory.Parent
        )
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "LazyMigrate.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            "The repository root (with LazyMigrate.sln) was not found above " + AppContext.BaseDirectory
        );
    }
}
