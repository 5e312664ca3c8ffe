using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>The checks and the failure message the option validators share.</summary>
internal static class OptionChecks
{
    /// <summary>The longest delay or duration an option takes.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    public static void Positive(TimeSpan value, string option, List<string> failures)
    {
        if (value <= TimeSpan.Zero || value > MaxDelay)
        {
            failures.Add($"{option} must be greater than 0 and at most {MaxDelay}, not {value}.");
        }
    }

    public static void InstanceId(string? value, string option, List<string> failures)
    {
        if (value is { Length: 0 or > 200 })
        {
            failures.Add($"{option} must be null or 1 to 200 characters.");
        }
    }

    /// <summary>Success, or every failure prefixed with what the options configure.</summary>
    public static ValidateOptionsResult Result(List<string> failures, string subject) =>
        failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{subject}: {f}"));
}
