namespace LazyMigrate.Internal;

/// <summary>The values of the read-source metrics tag.</summary>
internal static class ReadSources
{
    public const string New = "new";
    public const string Old = "old";
    public const string None = "none";
}
