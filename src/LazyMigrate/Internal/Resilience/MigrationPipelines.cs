using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace LazyMigrate.Internal;

/// <summary>The resilience pipeline of each role of one migration: the defaults, or what the user configured.</summary>
internal sealed class MigrationPipelines
{
    public MigrationPipelines(LazyMigrationOptions options, TimeProvider timeProvider)
    {
        OldStore = Build(MigrationRole.OldStore, options, timeProvider);
        NewStore = Build(MigrationRole.NewStore, options, timeProvider);
        Lock = Build(MigrationRole.Lock, options, timeProvider);
    }

    public ResiliencePipeline OldStore { get; }

    public ResiliencePipeline NewStore { get; }

    public ResiliencePipeline Lock { get; }

    public ResiliencePipeline For(MigrationRole role) => role switch
    {
        MigrationRole.OldStore => OldStore,
        MigrationRole.NewStore => NewStore,
        _ => Lock,
    };

    private static ResiliencePipeline Build(MigrationRole role, LazyMigrationOptions options, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder { Name = $"LazyMigrate.{role}", TimeProvider = timeProvider };
        if (options.PipelineOverrides.TryGetValue(role, out var build))
        {
            return build(builder);
        }

        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = static args => new ValueTask<bool>(args.Outcome.Exception is { } e && TransientFailure.IsTransient(e)),
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        // The lock provider waits up to LockTimeout by itself; a per-attempt timeout would cut that wait short.
        if (role != MigrationRole.Lock)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.AttemptTimeout });
        }

        return builder.Build();
    }
}
