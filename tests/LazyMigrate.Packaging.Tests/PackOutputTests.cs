namespace LazyMigrate.Packaging.Tests;

/// <summary>What a build prints: nothing to act on, in a clone with or without a git remote.</summary>
[Collection(PackagesCollection.Name)]
public sealed class PackOutputTests(PackedPackages packages)
{
    [Fact]
    public void Pack_PrintsNoWarning()
    {
        string[] warnings = packages
            .PackOutput.Split('\n')
            .Where(line => line.Contains("warning", StringComparison.OrdinalIgnoreCase))
            .Where(line => !line.TrimStart().StartsWith("0 Warning", StringComparison.Ordinal))
            .Distinct()
            .ToArray();

        Assert.Empty(warnings);
    }
}
