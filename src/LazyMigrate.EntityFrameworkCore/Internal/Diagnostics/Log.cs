using LazyMigrate.Outbox;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>The adapter's log messages: entity type names, ids and counts, never an entity payload.</summary>
internal static partial class Log
{
    public const string CategoryName = "LazyMigrate.EntityFrameworkCore";

    [LoggerMessage(
        1,
        LogLevel.Debug,
        "EF Core store of {EntityType}: {Operation} of entity {EntityId} found the id's entry taken "
            + "by a concurrent write "
            + "(attempt {Attempt} of {MaxAttempts})",
        EventName = "EntryRaced"
    )]
    public static partial void EntryRaced(
        ILogger logger,
        string entityType,
        string operation,
        string entityId,
        int attempt,
        int maxAttempts
    );

    [LoggerMessage(
        2,
        LogLevel.Debug,
        "EF Core store of {EntityType}: insert-if-absent lost {Lost} of {Count} ids to concurrent writes, "
            + "starting with {EntityId}; inserting the rest",
        EventName = "InsertRaced"
    )]
    public static partial void InsertRaced(ILogger logger, string entityType, int lost, int count, string entityId);

    [LoggerMessage(
        3,
        LogLevel.Debug,
        "EF Core outbox {Table}: recording item {Kind} of entity {EntityId} of migration {Migration} found it "
            + "inserted by a concurrent record (attempt {Attempt} of {MaxAttempts})",
        EventName = "OutboxRecordRaced"
    )]
    public static partial void OutboxRecordRaced(
        ILogger logger,
        string table,
        string migration,
        OutboxItemKind kind,
        string entityId,
        int attempt,
        int maxAttempts
    );
}
