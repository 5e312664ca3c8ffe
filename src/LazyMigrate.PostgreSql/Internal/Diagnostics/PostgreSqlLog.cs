using Microsoft.Extensions.Logging;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The log messages of LazyMigrate.PostgreSql. Table names, lock keys and ids only: never an entity payload.
/// </summary>
internal static partial class PostgreSqlLog
{
    /// <summary>The logger category.</summary>
    public const string Category = "LazyMigrate.PostgreSql";

    [LoggerMessage(
        101,
        LogLevel.Information,
        "Created the LazyMigrate new store table {Table}, or added the columns it lacked",
        EventName = "NewStoreTableCreated"
    )]
    public static partial void NewStoreTableCreated(ILogger logger, string table);

    [LoggerMessage(
        102,
        LogLevel.Information,
        "Created the LazyMigrate old store table {Table}",
        EventName = "OldStoreTableCreated"
    )]
    public static partial void OldStoreTableCreated(ILogger logger, string table);

    [LoggerMessage(
        103,
        LogLevel.Information,
        "Created the LazyMigrate outbox {Table} and its captures table {CapturesTable}",
        EventName = "OutboxCreated"
    )]
    public static partial void OutboxCreated(ILogger logger, string table, string capturesTable);

    [LoggerMessage(
        104,
        LogLevel.Information,
        "Created the LazyMigrate backfill checkpoint table {Table} and its quarantine table {QuarantineTable}",
        EventName = "BackfillTablesCreated"
    )]
    public static partial void BackfillTablesCreated(ILogger logger, string table, string quarantineTable);

    /// <summary>The creation of a document store's table, by its role.</summary>
    public static void StoreTableCreated(ILogger logger, MigrationRole role, string table)
    {
        if (role == MigrationRole.NewStore)
        {
            NewStoreTableCreated(logger, table);
        }
        else
        {
            OldStoreTableCreated(logger, table);
        }
    }

    [LoggerMessage(
        111,
        LogLevel.Warning,
        "Lost the PostgreSQL advisory lock {LockKey}: its connection failed",
        EventName = "AdvisoryLockLost"
    )]
    public static partial void AdvisoryLockLost(ILogger logger, string lockKey, Exception exception);

    [LoggerMessage(
        112,
        LogLevel.Warning,
        "Releasing the PostgreSQL advisory lock {LockKey} found it no longer held by its session",
        EventName = "AdvisoryLockNotHeld"
    )]
    public static partial void AdvisoryLockNotHeld(ILogger logger, string lockKey);

    [LoggerMessage(
        113,
        LogLevel.Warning,
        "Could not release the PostgreSQL advisory lock {LockKey}; "
            + "the pool is cleared so that its connection closes instead of being reused",
        EventName = "AdvisoryLockReleaseFailed"
    )]
    public static partial void AdvisoryLockReleaseFailed(ILogger logger, string lockKey, Exception exception);

    [LoggerMessage(
        121,
        LogLevel.Warning,
        "Could not end the migration-lock transaction on {Table} cleanly; "
            + "its locks go with the transaction or with its connection",
        EventName = "StoreLockRollbackFailed"
    )]
    public static partial void StoreLockRollbackFailed(ILogger logger, string table, Exception exception);

    [LoggerMessage(
        131,
        LogLevel.Debug,
        "The key of {Table} takes its values from the sequence {Sequence}; upserts keep it past explicit keys",
        EventName = "KeySequenceFound"
    )]
    public static partial void KeySequenceFound(ILogger logger, string table, string sequence);

    [LoggerMessage(
        132,
        LogLevel.Debug,
        "The key of {Table} has no sequence; upserts write explicit keys only",
        EventName = "KeySequenceNone"
    )]
    public static partial void KeySequenceNone(ILogger logger, string table);

    [LoggerMessage(
        133,
        LogLevel.Debug,
        "Advanced the sequence {Sequence} to the explicit key {EntityId} written into {Table}",
        EventName = "KeySequenceAdvanced"
    )]
    public static partial void KeySequenceAdvanced(ILogger logger, string sequence, string entityId, string table);

    [LoggerMessage(
        134,
        LogLevel.Debug,
        "Refused the write-back of {EntityId} to {Table}: an old-API write of it came after the write-back's intent, "
            + "so the row stays as the old API wrote it and the forward sync brings the new store up to it",
        EventName = "WriteBackSuperseded"
    )]
    public static partial void WriteBackSuperseded(ILogger logger, string entityId, string table);
}
