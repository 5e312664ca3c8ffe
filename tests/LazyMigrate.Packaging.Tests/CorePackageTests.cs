using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LazyMigrate.Packaging.Tests;

/// <summary>The core package as <c>dotnet pack</c> makes it from LazyMigrate.nuspec.</summary>
[Collection(PackagesCollection.Name)]
public sealed partial class CorePackageTests(PackedPackages packages)
{
    private readonly PackedPackage package = packages.Packages["LazyMigrate"];

    private static readonly string[] Frameworks = ["net8.0", "net10.0"];

    private XNamespace Ns => package.Nuspec.Root!.Name.Namespace;

    [Fact]
    public void Package_IsNamedAfterIdAndVersion()
    {
        Assert.Matches(PackageFileName(), Path.GetFileName(package.PackagePath));
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net10.0")]
    public void Package_HoldsTheAssemblyAndItsXmlDocsPerFramework(string framework)
    {
        Assert.Contains($"lib/{framework}/LazyMigrate.dll", package.Entries);
        Assert.Contains($"lib/{framework}/LazyMigrate.xml", package.Entries);
    }

    [Fact]
    public void Package_HoldsOnlyTheTwoFrameworks()
    {
        string[] libFolders = package
            .Entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal))
            .Select(e => e.Split('/')[1])
            .Distinct()
            .Order()
            .ToArray();

        Assert.Equal(Frameworks.Order(), libFolders);
    }

    [Fact]
    public void Package_KeepsSymbolsInTheSymbolPackage()
    {
        Assert.DoesNotContain(package.Entries, e => e.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.NotNull(package.SymbolsPath);
        foreach (string framework in Frameworks)
        {
            Assert.Contains($"lib/{framework}/LazyMigrate.pdb", package.SymbolEntries);
        }
    }

    [Fact]
    public void Package_DeclaresTheSameDependenciesForEachFramework_AtTheCentralVersions()
    {
        var groups = package
            .Nuspec.Descendants(Ns + "group")
            .ToDictionary(
                g => g.Attribute("targetFramework")!.Value,
                g =>
                    g.Elements(Ns + "dependency")
                        .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value)
            );
        var central = CentralVersions();

        Assert.Equal(Frameworks.Order(), groups.Keys.Select(k => k.ToLowerInvariant()).Order());
        foreach (var dependencies in groups.Values)
        {
            Assert.Equal(
                [
                    "Microsoft.Extensions.Caching.Memory",
                    "Microsoft.Extensions.DependencyInjection.Abstractions",
                    "Microsoft.Extensions.Diagnostics.Abstractions",
                    "Microsoft.Extensions.Hosting.Abstractions",
                    "Microsoft.Extensions.Logging.Abstractions",
                    "Microsoft.Extensions.Options",
                    "Polly.Core",
                    "System.Threading.RateLimiting",
                ],
                dependencies.Keys.Order()
            );
            Assert.All(dependencies, d => Assert.Equal(central[d.Key], d.Value));
        }
    }

    [Fact]
    public void Package_HasNoUnfilledTokens()
    {
        Assert.DoesNotContain("$", package.Nuspec.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Reads the resolved central versions of the library's dependencies from Directory.Packages.props.
    /// </summary>
    private static Dictionary<string, string> CentralVersions()
    {
        var props = XDocument.Load(Path.Combine(PackedPackages.FindRepositoryRoot(), "Directory.Packages.props"));
        var properties = props
            .Descendants()
            .Where(e => e.Parent?.Name == "PropertyGroup")
            .ToDictionary(e => e.Name.LocalName, e => e.Value);
        return props
            .Descendants("PackageVersion")
            .ToDictionary(
                p => p.Attribute("Include")!.Value,
                p => PropertyReference().Replace(p.Attribute("Version")!.Value, m => properties[m.Groups[1].Value])
            );
    }

    [GeneratedRegex(@"^LazyMigrate\.\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\.nupkg$")]
    private static partial Regex PackageFileName();

    [GeneratedRegex(@"\$\((\w+)\)")]
    private static partial Regex PropertyReference();
}
