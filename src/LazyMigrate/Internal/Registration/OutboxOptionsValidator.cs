using LazyMigrate.Outbox;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>Checks every migration's <see cref="OutboxOptions"/> at start-up.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        var failures = new List<string>();
        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add($"BatchSize must be between 1 and 10000, not {options.BatchSize}.");
        }

        if (options.MaxAttempts is < 1 or > 1000)
        {
            failures.Add($"MaxAttempts must be between 1 and 1000, not {options.MaxAttempts}.");
        }

        if (options.MaxParallelWrites is < 1 or > 256)
        {
            failures.Add($"MaxParallelWrites must be between 1 and 256, not {options.MaxParallelWrites}.");
        }

        CheckPositive(options.LeaseDuration, nameof(options.LeaseDuration), failures);
        CheckPositive(options.PollInterval, nameof(options.PollInterval), failures);
        CheckPositive(options.HandlerTimeout, nameof(options.HandlerTimeout), failures);
        CheckPositive(options.MaxRetryDelay, nameof(options.MaxRetryDelay), failures);
        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > options.MaxRetryDelay)
        {
            failures.Add(
                $"RetryDelay must be between 0 and MaxRetryDelay ({options.MaxRetryDelay}), not {options.RetryDelay}."
            );
        }

        if (options.DispatcherId is { Length: 0 or > 200 })
        {
            failures.Add("DispatcherId must be null or 1 to 200 characters.");
        }

        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"Outbox of migration '{name}': {f}"));
    }

    private static void CheckPositive(TimeSpan value, string option, List<string> failures)
    {
        if (value <= TimeSpan.Zero || value > MaxDelay)
        {
            failures.Add($"{option} must be greater than 0 and at most {MaxDelay}, not {value}.");
        }
    }
}
