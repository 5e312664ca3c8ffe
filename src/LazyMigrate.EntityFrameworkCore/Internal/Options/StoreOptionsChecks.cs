namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The checks of <see cref="EntityFrameworkCoreStoreOptions{TKey}"/> values, shared by start-up validation and the
/// store constructors.
/// </summary>
internal static class StoreOptionsChecks
{
    public const int MaxScanPageSize = 100_000;
    public const int MaxWriteAttempts = 100;

    public static List<string> Problems<TKey>(EntityFrameworkCoreStoreOptions<TKey> options)
        where TKey : notnull
    {
        var problems = new List<string>();
        if (options.ScanPageSize is < 1 or > MaxScanPageSize)
        {
            problems.Add($"ScanPageSize must be between 1 and {MaxScanPageSize}, not {options.ScanPageSize}.");
        }

        if (options.MaxWriteAttempts is < 1 or > MaxWriteAttempts)
        {
            problems.Add($"MaxWriteAttempts must be between 1 and {MaxWriteAttempts}, not {options.MaxWriteAttempts}.");
        }

        if (
            options.EntityTypeName is { } name
            && (string.IsNullOrWhiteSpace(name) || name.Length > LazyMigrateEntry.MaxEntityTypeLength)
        )
        {
            problems.Add(
                $"EntityTypeName must be a non-blank name of at most "
                    + $"{LazyMigrateEntry.MaxEntityTypeLength} characters, "
                    + $"not '{name}'."
            );
        }

        if ((options.ParseId is null || options.FormatKey is null) && !IdConversion<TKey>.HasDefault)
        {
            problems.Add($"Key type {typeof(TKey).Name} has no default id conversion: set both ParseId and FormatKey.");
        }

        return problems;
    }
}
