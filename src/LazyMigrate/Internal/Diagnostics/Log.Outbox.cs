using LazyMigrate.Outbox;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>The outbox's log messages: ids, kinds and errors, never a payload.</summary>
internal static partial class Log
{
    [LoggerMessage(
        20,
        LogLevel.Warning,
        "Migration {Migration}: the outbox item of entity {EntityId} could not be completed; the dispatcher applies it "
            + "again",
        EventName = "OutboxCompletionFailed"
    )]
    public static partial void OutboxCompletionFailed(
        ILogger logger,
        string migration,
        string entityId,
        Exception exception
    );

    [LoggerMessage(
        21,
        LogLevel.Warning,
        "Migration {Migration}: {Kind} of entity {EntityId} failed (attempt {Attempt}); retried at {NextAttemptAt}",
        EventName = "OutboxItemRetried"
    )]
    public static partial void OutboxItemRetried(
        ILogger logger,
        string migration,
        OutboxItemKind kind,
        string entityId,
        int attempt,
        DateTimeOffset nextAttemptAt,
        Exception exception
    );

    [LoggerMessage(
        22,
        LogLevel.Error,
        "Migration {Migration}: {Kind} of entity {EntityId} failed {Attempt} times and was dead-lettered",
        EventName = "OutboxItemDeadLettered"
    )]
    public static partial void OutboxItemDeadLettered(
        ILogger logger,
        string migration,
        OutboxItemKind kind,
        string entityId,
        int attempt,
        Exception exception
    );

    [LoggerMessage(
        23,
        LogLevel.Warning,
        "Migration {Migration}: the dispatcher's batch failed; its items are retried when their leases end",
        EventName = "OutboxDispatchFailed"
    )]
    public static partial void OutboxDispatchFailed(ILogger logger, string migration, Exception exception);

    [LoggerMessage(
        24,
        LogLevel.Information,
        "Migration {Migration}: {Count} dead letters replayed",
        EventName = "OutboxDeadLettersReplayed"
    )]
    public static partial void OutboxDeadLettersReplayed(ILogger logger, string migration, int count);

    [LoggerMessage(
        25,
        LogLevel.Warning,
        "Migration {Migration}: the {Store} store's batch {Operation} of {Count} entities from {EntityId} failed; each "
            + "is written on its own",
        EventName = "WriteBackBatchFailed"
    )]
    public static partial void WriteBackBatchFailed(
        ILogger logger,
        string migration,
        string store,
        string operation,
        int count,
        string entityId,
        Exception exception
    );

    [LoggerMessage(
        26,
        LogLevel.Debug,
        "Migration {Migration}: {Kind} of entity {EntityId} completed without a write ({Reason})",
        EventName = "OutboxItemSkipped"
    )]
    public static partial void OutboxItemSkipped(
        ILogger logger,
        string migration,
        OutboxItemKind kind,
        string entityId,
        string reason
    );

    [LoggerMessage(
        27,
        LogLevel.Warning,
        "Migration {Migration}: entity {EntityId} was read stale and could not be synced from the old store; the read "
            + "returns what the new store holds, and the dispatcher retries the forward sync",
        EventName = "StaleReadSyncFailed"
    )]
    public static partial void StaleReadSyncFailed(
        ILogger logger,
        string migration,
        string entityId,
        Exception exception
    );
}
