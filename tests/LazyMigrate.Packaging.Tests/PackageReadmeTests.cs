using System.Text.RegularExpressions;

namespace LazyMigrate.Packaging.Tests;

/// <summary>
/// Each package carries a readme of its own for its NuGet page, whose links work outside the repository.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed partial class PackageReadmeTests(PackedPackages packages)
{
    public static TheoryData<string> Ids => new(PackedPackages.Ids);

    [Theory]
    [MemberData(nameof(Ids))]
    public void Package_CarriesTheReadmeItsNuspecNames(string id)
    {
        PackedPackage package = packages.Packages[id];

        Assert.Equal("README.md", package.Metadata("readme"));
        Assert.Contains("README.md", package.Entries);
        Assert.NotNull(package.Readme);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Readme_IsThePackagesOwn_HeadedWithItsId(string id)
    {
        string firstLine = packages.Packages[id].Readme!.Split('\n')[0].Trim();

        Assert.Equal("# " + id, firstLine);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Readme_LinksOnlyToAbsoluteHttpsAddresses(string id)
    {
        string readme = packages.Packages[id].Readme!;

        string[] targets = MarkdownLinkTarget()
            .Matches(readme)
            .Select(m => m.Groups[1].Value)
            .Concat(HtmlLinkTarget().Matches(readme).Select(m => m.Groups[1].Value))
            .ToArray();

        Assert.All(targets, target => Assert.StartsWith("https://", target, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Readme_LinksIntoTheRepositoryOnlyAtItsUrl(string id)
    {
        PackedPackage package = packages.Packages[id];
        string repository = package
            .Nuspec.Root!.Element(package.Ns + "metadata")!
            .Element(package.Ns + "repository")!
            .Attribute("url")!
            .Value;

        string[] intoRepository = MarkdownLinkTarget()
            .Matches(package.Readme!)
            .Select(m => m.Groups[1].Value)
            .Where(t => t.Contains("lazymigrate", StringComparison.OrdinalIgnoreCase))
            .ToArray();

        Assert.All(intoRepository, target => Assert.StartsWith(repository + "/", target, StringComparison.Ordinal));
    }

    [Fact]
    public void PostgreSqlReadme_SaysWhereAddNpgsqlDataSourceComesFrom()
    {
        string readme = packages.Packages["LazyMigrate.PostgreSql"].Readme!;

        Assert.Contains("AddNpgsqlDataSource", readme, StringComparison.Ordinal);
        Assert.Contains("Npgsql.DependencyInjection", readme, StringComparison.Ordinal);
    }

    /// <summary>
    /// The target of an inline markdown link or image: <c>[text](target)</c>, <c>![alt](target "title")</c>.
    /// </summary>
    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)")]
    private static partial Regex MarkdownLinkTarget();

    /// <summary>The target of an HTML link or image.</summary>
    [GeneratedRegex(@"(?:href|src)\s*=\s*[""']([^""']+)")]
    private static partial Regex HtmlLinkTarget();
}
