namespace LazyMigrate.Packaging.Tests;

/// <summary>
/// A consumer project restores the packed packages beside the lowest Microsoft.Extensions.* of its framework, with
/// warnings as errors: a package whose dependencies ask for more (EF Core 10.0.15 asked for 10.0.15) forces them up,
/// NU1605.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class ConsumerRestoreTests(PackedPackages packages)
{
    [Theory]
    [InlineData("LazyMigrate.EntityFrameworkCore", "net10.0", "10.0.0")]
    [InlineData("LazyMigrate.PostgreSql", "net10.0", "10.0.0")]
    [InlineData("LazyMigrate.DistributedLock", "net10.0", "10.0.0")]
    // 8.0.2: the lowest that Caching.Memory 8.0.1, the registry's lowest 8.0, allows.
    [InlineData("LazyMigrate", "net8.0", "8.0.2")]
    [InlineData("LazyMigrate.PostgreSql", "net8.0", "8.0.2")]
    public void Consumer_PinningTheLowestExtensionsOfItsFramework_Restores(
        string package,
        string framework,
        string extensions
    )
    {
        DirectoryInfo consumer = Directory.CreateTempSubdirectory("lazymigrate-consumer-");
        try
        {
            string version = packages.Packages[package].Metadata("version")!;
            string globalPackages =
                Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            // Its own packages folder, so that a package packed earlier under the same version is never taken from the
            // cache; the global folder serves the rest without a download.
            File.WriteAllText(
                Path.Combine(consumer.FullName, "Consumer.csproj"),
                $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>{framework}</TargetFramework>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <NuGetAudit>false</NuGetAudit>
                    <RestorePackagesPath>{Path.Combine(consumer.FullName, "packages")}</RestorePackagesPath>
                    <RestoreFallbackFolders>{globalPackages}</RestoreFallbackFolders>
                    <RestoreAdditionalProjectSources>{string.Join(
                    ';',
                    packages.Folders
                )}</RestoreAdditionalProjectSources>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{package}" Version="{version}" />
                    <PackageReference Include="Microsoft.Extensions.Logging.Abstractions" Version="{extensions}" />
                    <PackageReference
                      Include="Microsoft.Extensions.DependencyInjection.Abstractions" Version="{extensions}" />
                  </ItemGroup>
                </Project>
                """
            );

            (int exitCode, string output) = PackedPackages.TryDotnet(consumer.FullName, "restore", "--nologo");

            Assert.True(exitCode == 0, output);
            Assert.DoesNotContain("NU1605", output, StringComparison.Ordinal);
        }
        finally
        {
            consumer.Delete(recursive: true);
        }
    }
}
