using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace LazyMigrate.Packaging.Tests;

/// <summary>Runs <c>dotnet pack</c> on the core library once and keeps the resulting packages for the tests to open.</summary>
public sealed class PackedCorePackage : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("lazymigrate-pack-").FullName;

    public PackedCorePackage()
    {
        string repository = FindRepositoryRoot();
        var pack = new ProcessStartInfo("dotnet", ["pack", Path.Combine(repository, "src", "LazyMigrate", "LazyMigrate.csproj"), "-c", "Release", "-o", _output, "--nologo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(pack)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed ({process.ExitCode}):\n{output.Result}\n{errors.Result}");
        }

        PackagePath = Directory.GetFiles(_output, "LazyMigrate.*.nupkg").Single();
        SymbolsPath = Directory.GetFiles(_output, "LazyMigrate.*.snupkg").SingleOrDefault();
        using ZipArchive archive = ZipFile.OpenRead(PackagePath);
        Entries = archive.Entries.Select(e => e.FullName).ToArray();
        using Stream nuspec = archive.Entries.Single(e => e.FullName == "LazyMigrate.nuspec").Open();
        Nuspec = XDocument.Load(nuspec);
        if (SymbolsPath is not null)
        {
            using ZipArchive symbols = ZipFile.OpenRead(SymbolsPath);
            SymbolEntries = symbols.Entries.Select(e => e.FullName).ToArray();
        }
    }

    public string PackagePath { get; }

    public string? SymbolsPath { get; }

    public IReadOnlyList<string> Entries { get; }

    public IReadOnlyList<string> SymbolEntries { get; } = [];

    public XDocument Nuspec { get; }

    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LazyMigrate.nuspec")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (the folder with LazyMigrate.nuspec) was not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
