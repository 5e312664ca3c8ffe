namespace LazyMigrate.Packaging.Tests;

/// <summary>
/// Each package asks for the lowest version of each dependency that it supports, per framework, so that a consumer
/// pinning an older patch of a shared dependency (Microsoft.Extensions.* 10.0.0, say) is not forced up (NU1605).
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class PackageDependencyTests(PackedPackages packages)
{
    private const string Version = "0.1.0";

    private static readonly Dictionary<string, string> Core = new(StringComparer.Ordinal)
    {
        ["Polly.Core"] = "8.6.5",
        ["Microsoft.Extensions.DependencyInjection.Abstractions"] = "8.0.2",
        ["Microsoft.Extensions.Options"] = "8.0.2",
        ["Microsoft.Extensions.Logging.Abstractions"] = "8.0.2",
        ["Microsoft.Extensions.Caching.Memory"] = "8.0.1",
        ["Microsoft.Extensions.Diagnostics.Abstractions"] = "8.0.0",
        ["Microsoft.Extensions.Hosting.Abstractions"] = "8.0.0",
        ["System.Threading.RateLimiting"] = "8.0.0",
    };

    /// <summary>The intended floors: package, framework, dependency and version.</summary>
    public static TheoryData<string, string, string, string> Floors()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (string framework in new[] { "net8.0", "net10.0" })
        {
            foreach ((string id, string version) in Core)
            {
                data.Add("LazyMigrate", framework, id, version);
            }

            data.Add("LazyMigrate.PostgreSql", framework, "LazyMigrate", Version);
            data.Add("LazyMigrate.PostgreSql", framework, "Npgsql", "8.0.9");
            data.Add("LazyMigrate.PostgreSql", framework, "Microsoft.Extensions.Hosting.Abstractions", "8.0.0");
            data.Add(
                "LazyMigrate.EntityFrameworkCore",
                framework,
                "Microsoft.Extensions.Hosting.Abstractions",
                "8.0.0"
            );
            data.Add("LazyMigrate.EntityFrameworkCore", framework, "LazyMigrate", Version);
            data.Add("LazyMigrate.DistributedLock", framework, "LazyMigrate", Version);
            data.Add("LazyMigrate.DistributedLock", framework, "DistributedLock.Core", "1.0.9");
        }

        // EF Core 8 for net8.0 (8.0.30 is the lowest the package registry serves); the first EF Core 10 for net10.0, so
        // that the package never pulls a newer Microsoft.Extensions.* than EF Core 10 itself needs.
        data.Add("LazyMigrate.EntityFrameworkCore", "net8.0", "Microsoft.EntityFrameworkCore.Relational", "8.0.30");
        data.Add("LazyMigrate.EntityFrameworkCore", "net10.0", "Microsoft.EntityFrameworkCore.Relational", "10.0.0");
        return data;
    }

    [Theory]
    [MemberData(nameof(Floors))]
    public void Package_AsksForTheFloorVersion(string package, string framework, string dependency, string version)
    {
        var groups = packages.Packages[package].DependencyGroups();

        Assert.True(groups.TryGetValue(framework, out var dependencies), $"{package} has no {framework} group");
        Assert.True(
            dependencies!.TryGetValue(dependency, out string? actual),
            $"{package} {framework} lacks {dependency}"
        );
        Assert.Equal(version, actual);
    }

    [Theory]
    [InlineData("LazyMigrate")]
    [InlineData("LazyMigrate.PostgreSql")]
    [InlineData("LazyMigrate.EntityFrameworkCore")]
    [InlineData("LazyMigrate.DistributedLock")]
    public void Package_HasNoDependencyBesidesItsFloors(string package)
    {
        var expected = Floors()
            .Select(row => ((string)row[0], (string)row[1], (string)row[2]))
            .Where(row => row.Item1 == package)
            .Select(row => (row.Item2, row.Item3))
            .Order()
            .ToArray();

        var actual = packages
            .Packages[package]
            .DependencyGroups()
            .SelectMany(g => g.Value.Keys.Select(d => (g.Key, d)))
            .Order()
            .ToArray();

        Assert.Equal(expected, actual);
    }
}
