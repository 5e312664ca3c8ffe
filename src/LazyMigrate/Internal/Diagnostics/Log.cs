using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>LazyMigrate's log messages. Ids and migration names only: never an entity payload.</summary>
internal static partial class Log
{
    [LoggerMessage(
        1,
        LogLevel.Debug,
        "Migration {Migration} migrated entity {EntityId} ({Trigger})",
        EventName = "EntityMigrated"
    )]
    public static partial void EntityMigrated(
        ILogger logger,
        string migration,
        string entityId,
        MigrationTrigger trigger
    );

    [LoggerMessage(
        2,
        LogLevel.Warning,
        "Migration {Migration} failed for entity {EntityId}",
        EventName = "MigrationFailed"
    )]
    public static partial void MigrationFailed(ILogger logger, string migration, string entityId, Exception exception);

    [LoggerMessage(
        3,
        LogLevel.Error,
        "An EntityMigrated handler of migration {Migration} failed for entity {EntityId}; the migration stands and "
            + "the event is delivered again",
        EventName = "HandlerFailed"
    )]
    public static partial void HandlerFailed(ILogger logger, string migration, string entityId, Exception exception);

    [LoggerMessage(
        4,
        LogLevel.Warning,
        "Migration {Migration} could not lock entity {EntityId} within {Timeout}",
        EventName = "LockTimeout"
    )]
    public static partial void LockTimeout(ILogger logger, string migration, string entityId, TimeSpan timeout);

    [LoggerMessage(
        6,
        LogLevel.Warning,
        "Migration {Migration} could not release the lock of entity {EntityId}",
        EventName = "LockReleaseFailed"
    )]
    public static partial void LockReleaseFailed(
        ILogger logger,
        string migration,
        string entityId,
        Exception exception
    );

    [LoggerMessage(
        7,
        LogLevel.Warning,
        "Migration {Migration}: write-back of {Operation} failed for entity {EntityId}; the new store holds the change",
        EventName = "WriteBackFailed"
    )]
    public static partial void WriteBackFailed(
        ILogger logger,
        string migration,
        string operation,
        string entityId,
        Exception exception
    );

    [LoggerMessage(
        8,
        LogLevel.Warning,
        "Migration {Migration}: the lock of entity {EntityId} was lost during the write-back of {Operation}; copying "
            + "the new store's current state to the old store under a new lock",
        EventName = "WriteBackLockLost"
    )]
    public static partial void WriteBackLockLost(ILogger logger, string migration, string operation, string entityId);
}
