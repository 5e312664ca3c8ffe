using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace LazyMigrate.Internal;

/// <summary>The resilience pipeline of each role of one migration: the defaults, or what the user configured.</summary>
/// <remarks>
/// A store read through a default pipeline calls the store directly on its first attempt and enters the pipeline only
/// after a transient failure (see <see cref="ResilientStores{TOld, TNew}"/>): Polly's retry and per-attempt timeout
/// cost about 400 ns and 1 KB per call on the hot path, which a read that succeeds does not need. These members tell it
/// how.
/// </remarks>
internal sealed class MigrationPipelines
{
    private readonly int _configuredRoles;
    private readonly int _maxRetryAttempts;

    public MigrationPipelines(LazyMigrationOptions options, TimeProvider timeProvider)
    {
        OldStore = Build(MigrationRole.OldStore, options, timeProvider);
        NewStore = Build(MigrationRole.NewStore, options, timeProvider);
        Lock = Build(MigrationRole.Lock, options, timeProvider);
        Outbox = Build(MigrationRole.Outbox, options, timeProvider);
        foreach (MigrationRole role in options.PipelineOverrides.Keys)
        {
            _configuredRoles |= Bit(role);
        }

        _maxRetryAttempts = options.MaxRetryAttempts;
        AttemptTimeout = options.AttemptTimeout;
        TimeProvider = timeProvider;
    }

    public ResiliencePipeline OldStore { get; }

    public ResiliencePipeline NewStore { get; }

    public ResiliencePipeline Lock { get; }

    public ResiliencePipeline Outbox { get; }

    /// <summary>
    /// How long the direct first attempt of a read is awaited (the default pipelines' per-attempt timeout).
    /// </summary>
    public TimeSpan AttemptTimeout { get; }

    /// <summary>The clock of the pipelines, which also times the direct first attempt.</summary>
    public TimeProvider TimeProvider { get; }

    public ResiliencePipeline For(MigrationRole role) =>
        role switch
        {
            MigrationRole.OldStore => OldStore,
            MigrationRole.NewStore => NewStore,
            MigrationRole.Outbox => Outbox,
            _ => Lock,
        };

    /// <summary>
    /// Tells whether a read of the role calls the store directly first: only through the default pipeline of a store.
    /// A pipeline the user configured (<c>UseResilience</c>) runs as configured on every attempt.
    /// </summary>
    public bool CallsStoreDirectlyFirst(MigrationRole role) =>
        role != MigrationRole.Lock && (_configuredRoles & Bit(role)) == 0;

    /// <summary>Tells whether the default pipeline retries this failure of a direct first attempt.</summary>
    public bool RetriesAfter(Exception failure, CancellationToken cancellationToken) =>
        _maxRetryAttempts > 0 && !cancellationToken.IsCancellationRequested && TransientFailure.IsTransient(failure);

    private static int Bit(MigrationRole role) => 1 << (int)role;

    private static ResiliencePipeline Build(MigrationRole role, LazyMigrationOptions options, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder { Name = $"LazyMigrate.{role}", TimeProvider = timeProvider };
        if (options.PipelineOverrides.TryGetValue(role, out var build))
        {
            return build(builder);
        }

        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(
                new RetryStrategyOptions
                {
                    ShouldHandle = static args => new ValueTask<bool>(
                        args.Outcome.Exception is { } e && TransientFailure.IsTransient(e)
                    ),
                    MaxRetryAttempts = options.MaxRetryAttempts,
                    Delay = options.RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                }
            );
        }

        // The lock provider waits up to LockTimeout by itself; a per-attempt timeout would cut that wait short.
        if (role != MigrationRole.Lock)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.AttemptTimeout });
        }

        return builder.Build();
    }
}
