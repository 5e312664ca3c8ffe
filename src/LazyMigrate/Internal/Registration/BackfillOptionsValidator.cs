using LazyMigrate.Backfill;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>Checks every migration's <see cref="BackfillOptions"/> at start-up.</summary>
internal sealed class BackfillOptionsValidator : IValidateOptions<BackfillOptions>
{
    private const int MaxBatch = 100_000;

    public ValidateOptionsResult Validate(string? name, BackfillOptions options)
    {
        var failures = new List<string>();
        if (options.MinBatchSize < 1 || options.MinBatchSize > options.MaxBatchSize || options.MaxBatchSize > MaxBatch)
        {
            failures.Add(
                $"MinBatchSize ({options.MinBatchSize}) and MaxBatchSize ({options.MaxBatchSize}) must satisfy "
                    + $"1 <= MinBatchSize <= MaxBatchSize <= {MaxBatch}."
            );
        }

        if (options.InitialBatchSize < options.MinBatchSize || options.InitialBatchSize > options.MaxBatchSize)
        {
            failures.Add(
                $"InitialBatchSize must be between MinBatchSize and MaxBatchSize, not {options.InitialBatchSize}."
            );
        }

        if (options.TargetBatchDuration < TimeSpan.Zero || options.TargetBatchDuration > OptionChecks.MaxDelay)
        {
            failures.Add(
                $"TargetBatchDuration must be between 0 and {OptionChecks.MaxDelay}, not {options.TargetBatchDuration}."
            );
        }

        if (options.MaxEntitiesPerSecond is { } rate && !(rate > 0 && double.IsFinite(rate)))
        {
            failures.Add($"MaxEntitiesPerSecond must be null or a positive number, not {rate}.");
        }

        OptionChecks.Positive(options.LeaseDuration, nameof(options.LeaseDuration), failures);
        OptionChecks.Positive(options.LeasePollInterval, nameof(options.LeasePollInterval), failures);
        OptionChecks.Positive(options.RetryDelay, nameof(options.RetryDelay), failures);
        if (options.DryRunFailuresKept is < 0 or > MaxBatch)
        {
            failures.Add($"DryRunFailuresKept must be between 0 and {MaxBatch}, not {options.DryRunFailuresKept}.");
        }

        OptionChecks.InstanceId(options.InstanceId, nameof(options.InstanceId), failures);

        return OptionChecks.Result(failures, $"Backfill of migration '{name}'");
    }
}
