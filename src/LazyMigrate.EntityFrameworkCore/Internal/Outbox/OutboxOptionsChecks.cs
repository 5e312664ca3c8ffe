namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The checks of <see cref="EntityFrameworkCoreOutboxOptions"/> values, shared by start-up validation and the
/// outbox's constructor.
/// </summary>
internal static class OutboxOptionsChecks
{
    public const int MaxRecordAttempts = 100;

    public static List<string> Problems(EntityFrameworkCoreOutboxOptions options)
    {
        var problems = new List<string>();
        if (options.MaxRecordAttempts is < 1 or > MaxRecordAttempts)
        {
            problems.Add(
                $"MaxRecordAttempts must be between 1 and {MaxRecordAttempts}, not {options.MaxRecordAttempts}."
            );
        }

        return problems;
    }
}
