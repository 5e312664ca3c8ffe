using LazyMigrate.Outbox;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>Checks every migration's <see cref="OutboxOptions"/> at start-up.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
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

        OptionChecks.Positive(options.LeaseDuration, nameof(options.LeaseDuration), failures);
        OptionChecks.Positive(options.PollInterval, nameof(options.PollInterval), failures);
        OptionChecks.Positive(options.HandlerTimeout, nameof(options.HandlerTimeout), failures);
        OptionChecks.Positive(options.MaxRetryDelay, nameof(options.MaxRetryDelay), failures);
        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > options.MaxRetryDelay)
        {
            failures.Add(
                $"RetryDelay must be between 0 and MaxRetryDelay ({options.MaxRetryDelay}), not {options.RetryDelay}."
            );
        }

        OptionChecks.InstanceId(options.DispatcherId, nameof(options.DispatcherId), failures);

        return OptionChecks.Result(failures, $"Outbox of migration '{name}'");
    }
}
