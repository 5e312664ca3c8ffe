namespace LazyMigrate.Packaging.Tests;

/// <summary>
/// The test classes that open the packed packages share one <see cref="PackedPackages"/>: packing is slow.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "packages";
}
