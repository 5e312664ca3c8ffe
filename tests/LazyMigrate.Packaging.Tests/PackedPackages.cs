using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace LazyMigrate.Packaging.Tests;

/// <summary>
/// Runs <c>dotnet pack</c> on each shipped library once and keeps the packages for the tests to open.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    /// <summary>The shipped packages, named after their projects under src/.</summary>
    public static readonly string[] Ids =
    [
        "LazyMigrate",
        "LazyMigrate.PostgreSql",
        "LazyMigrate.EntityFrameworkCore",
        "LazyMigrate.DistributedLock",
    ];

    private readonly string _output = Directory.CreateTempSubdirectory("lazymigrate-pack-").FullName;

    public PackedPackages()
    {
        string repository = FindRepositoryRoot();
        var packages = new Dictionary<string, PackedPackage>(StringComparer.Ordinal);
        var output = new List<string>();
        // A build that is up to date prints none of its warnings: rebuild the core (every package builds it) first.
        output.Add(Dotnet(["build", Project(repository, Ids[0]), "-c", "Release", "--nologo", "--no-incremental"]));
        foreach (string id in Ids)
        {
            output.Add(
                Dotnet(["pack", Project(repository, id), "-c", "Release", "-o", Path.Combine(_output, id), "--nologo"])
            );
            packages[id] = new PackedPackage(id, Path.Combine(_output, id));
        }

        Packages = packages;
        PackOutput = string.Join('\n', output);
    }

    /// <summary>The packages by id.</summary>
    public IReadOnlyDictionary<string, PackedPackage> Packages { get; }

    /// <summary>What <c>dotnet pack</c> printed, for all packages.</summary>
    public string PackOutput { get; }

    /// <summary>
    /// The folders the packages were packed into, one per package: package sources for a consumer's restore.
    /// </summary>
    public IEnumerable<string> Folders => Ids.Select(id => Path.Combine(_output, id));

    /// <summary>
    /// Runs one dotnet command in <paramref name="directory"/>; returns its exit code and what it printed.
    /// </summary>
    public static (int ExitCode, string Output) TryDotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        using Process process = Process.Start(start)!;
        Task<string> standardOutput = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            // A hung restore or build must fail the run with what it printed, not hold CI until its own limit.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException(
                $"dotnet {string.Join(' ', arguments)} did not finish within {CommandTimeout}; it printed:\n"
                    + standardOutput.Result
                    + errors.Result
            );
        }

        return (process.ExitCode, standardOutput.Result + errors.Result);
    }

    /// <summary>How long one dotnet command may run: a pack takes under a minute here, a restore seconds.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    public static string FindRepositoryRoot()
    {
        for (
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            directory is not null;
            directory = directory.Parent
        )
        {
            if (File.Exists(Path.Combine(directory.FullName, "LazyMigrate.nuspec")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            "The repository root (the folder with LazyMigrate.nuspec) was not found above " + AppContext.BaseDirectory
        );
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);

    private static string Project(string repository, string id) => Path.Combine(repository, "src", id, id + ".csproj");

    /// <summary>Runs one dotnet command, throws if it fails, and returns what it printed.</summary>
    private static string Dotnet(string[] arguments)
    {
        (int exitCode, string output) = TryDotnet(Environment.CurrentDirectory, arguments);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException(
                $"dotnet {string.Join(' ', arguments)} failed ({exitCode}):\n{output}"
            );
    }
}

/// <summary>One packed package: its entries, its nuspec, its readme and its symbol package.</summary>
public sealed class PackedPackage
{
    public PackedPackage(string id, string folder)
    {
        Id = id;
        PackagePath = Directory.GetFiles(folder, id + ".*.nupkg").Single();
        SymbolsPath = Directory.GetFiles(folder, id + ".*.snupkg").SingleOrDefault();
        using ZipArchive archive = ZipFile.OpenRead(PackagePath);
        Entries = archive.Entries.Select(e => e.FullName).ToArray();
        using (Stream nuspec = archive.Entries.Single(e => e.FullName == id + ".nuspec").Open())
        {
            Nuspec = XDocument.Load(nuspec);
        }

        string? readme = Metadata("readme");
        if (readme is not null && archive.GetEntry(readme) is { } entry)
        {
            using var reader = new StreamReader(entry.Open());
            Readme = reader.ReadToEnd();
        }

        if (SymbolsPath is not null)
        {
            using ZipArchive symbols = ZipFile.OpenRead(SymbolsPath);
            SymbolEntries = symbols.Entries.Select(e => e.FullName).ToArray();
        }
    }

    public string Id { get; }

    public string PackagePath { get; }

    public string? SymbolsPath { get; }

    public IReadOnlyList<string> Entries { get; }

    public IReadOnlyList<string> SymbolEntries { get; } = [];

    public XDocument Nuspec { get; }

    /// <summary>
    /// The text of the file the nuspec names as its readme, or <c>null</c> if it names none or it is missing.
    /// </summary>
    public string? Readme { get; }

    public XNamespace Ns => Nuspec.Root!.Name.Namespace;

    /// <summary>The value of a metadata element, or <c>null</c>.</summary>
    public string? Metadata(string name) => Nuspec.Root!.Element(Ns + "metadata")!.Element(Ns + name)?.Value;

    /// <summary>The dependency groups: framework (lower case) to dependency id to version.</summary>
    public Dictionary<string, Dictionary<string, string>> DependencyGroups() =>
        Nuspec
            .Descendants(Ns + "group")
            .ToDictionary(
                g => g.Attribute("targetFramework")!.Value.ToLowerInvariant(),
                g =>
                    g.Elements(Ns + "dependency")
                        .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value)
            );
}
