using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>The backfill's log messages: ids, counts and errors, never an entity's data.</summary>
internal static partial class Log
{
    [LoggerMessage(
        30,
        LogLevel.Information,
        "Migration {Migration}: backfill {Action} by {Owner}",
        EventName = "BackfillStarted",
        SkipEnabledCheck = true
    )]
    private static partial void BackfillStarted(ILogger logger, string migration, string action, string owner);

    public static void BackfillStarted(ILogger logger, string migration, bool resumed, string owner)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            BackfillStarted(logger, migration, resumed ? "resumed from its checkpoint" : "started", owner);
        }
    }

    [LoggerMessage(
        31,
        LogLevel.Information,
        "Migration {Migration}: backfill complete; this run migrated {Migrated}, the backfill {TotalMigrated}",
        EventName = "BackfillCompleted"
    )]
    public static partial void BackfillCompleted(ILogger logger, string migration, long migrated, long totalMigrated);

    [LoggerMessage(
        32,
        LogLevel.Warning,
        "Migration {Migration}: entity {EntityId} was quarantined: {Error}",
        EventName = "BackfillQuarantined"
    )]
    public static partial void BackfillQuarantined(ILogger logger, string migration, string entityId, string error);

    [LoggerMessage(
        33,
        LogLevel.Error,
        "Migration {Migration}: the backfill failed; it resumes from its checkpoint in {RetryDelay}",
        EventName = "BackfillFailed"
    )]
    public static partial void BackfillFailed(
        ILogger logger,
        string migration,
        TimeSpan retryDelay,
        Exception exception
    );

    [LoggerMessage(
        34,
        LogLevel.Information,
        "Migration {Migration}: the backfill's lease is held by {Holder}; waiting for it to finish or lapse",
        EventName = "BackfillWaitingForLease"
    )]
    public static partial void BackfillWaitingForLease(ILogger logger, string migration, string holder);

    [LoggerMessage(
        35,
        LogLevel.Warning,
        "Migration {Migration}: {Owner} lost the backfill's lease to another instance; taking it up again",
        EventName = "BackfillLeaseLost"
    )]
    public static partial void BackfillLeaseLost(ILogger logger, string migration, string owner);

    [LoggerMessage(36, LogLevel.Information, "Migration {Migration}: backfill paused", EventName = "BackfillPaused")]
    public static partial void BackfillPaused(ILogger logger, string migration);

    [LoggerMessage(37, LogLevel.Information, "Migration {Migration}: backfill resumed", EventName = "BackfillResumed")]
    public static partial void BackfillResumed(ILogger logger, string migration);

    [LoggerMessage(
        38,
        LogLevel.Debug,
        "Migration {Migration}: the throttle holds the backfill for {Delay}",
        EventName = "BackfillThrottled"
    )]
    public static partial void BackfillThrottled(ILogger logger, string migration, TimeSpan delay);

    [LoggerMessage(
        39,
        LogLevel.Information,
        "Migration {Migration}: dry run scanned {Scanned} entities; {Failed} failed to map",
        EventName = "BackfillDryRunCompleted"
    )]
    public static partial void BackfillDryRunCompleted(ILogger logger, string migration, long scanned, long failed);

    [LoggerMessage(
        40,
        LogLevel.Information,
        "Migration {Migration}: retried {Retried} quarantined entities; {StillQuarantined} stay quarantined",
        EventName = "BackfillQuarantineRetried"
    )]
    public static partial void BackfillQuarantineRetried(
        ILogger logger,
        string migration,
        int retried,
        int stillQuarantined
    );

    [LoggerMessage(
        41,
        LogLevel.Information,
        "Migration {Migration}: the backfill is paused and holds before its next batch",
        EventName = "BackfillHeld"
    )]
    public static partial void BackfillHeld(ILogger logger, string migration);

    [LoggerMessage(
        42,
        LogLevel.Debug,
        "Migration {Migration}: the rate limit holds the backfill for {Delay}",
        EventName = "BackfillRateLimited"
    )]
    public static partial void BackfillRateLimited(ILogger logger, string migration, TimeSpan delay);

    [LoggerMessage(
        43,
        LogLevel.Warning,
        "Migration {Migration}: the old store could not count the entities left; the backfill goes on without a total",
        EventName = "BackfillCountFailed"
    )]
    public static partial void BackfillCountFailed(ILogger logger, string migration, Exception exception);
}
