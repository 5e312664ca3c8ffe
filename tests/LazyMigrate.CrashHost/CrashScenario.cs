using LazyMigrate.TestKit;

namespace LazyMigrate.CrashHost;

/// <summary>
/// The crash points: each runs the workload up to a point and returns once the process is there, held by a gate, so
/// that a kill lands exactly between two steps.
/// </summary>
internal static class CrashScenario
{
    /// <summary>The migration inserts (and their event items) committed; nothing delivered.</summary>
    public const string Migrated = "migrated";

    /// <summary>Async saves and deletes committed with their items; nothing written back.</summary>
    public const string AsyncSaved = "async-saved";

    /// <summary>Sync saves and deletes: the new store and items committed, every call held in its old-store write.
    /// </summary>
    public const string SyncInOldWrite = "sync-in-old-write";

    /// <summary>A dispatcher claimed every item, wrote <c>pass</c> of them back and is held in the next write.
    /// </summary>
    public const string BatchWriteBacks = "batch-write-backs";

    /// <summary>A dispatcher claimed every event, handled <c>pass</c> of them and is held in the next handler.
    /// </summary>
    public const string BatchEvents = "batch-events";

    public static WriteBackMode WriteBackOf(CrashArguments arguments) =>
        arguments.Point == SyncInOldWrite ? WriteBackMode.Sync : WriteBackMode.Async;

    public static CrashGate OldWritesGate(CrashArguments arguments) =>
        arguments.Point switch
        {
            SyncInOldWrite => new CrashGate(0, arguments.Save.Count + arguments.Delete.Count),
            BatchWriteBacks => new CrashGate(arguments.Pass, 1),
            _ => CrashGate.Open(),
        };

    public static CrashGate HandlerGate(CrashArguments arguments) =>
        arguments.Point == BatchEvents ? new CrashGate(arguments.Pass, 1) : CrashGate.Open();

    public static async Task RunToCrashPointAsync(CrashMigration migration, CrashArguments arguments)
    {
        IReadOnlyDictionary<string, Customer> read = await migration.Repository.GetManyAsync(arguments.Migrate);
        if (read.Count != arguments.Migrate.Count)
        {
            throw new InvalidOperationException($"{read.Count} of {arguments.Migrate.Count} ids were migrated.");
        }

        switch (arguments.Point)
        {
            case Migrated:
                return;
            case AsyncSaved:
                await WriteAsync(migration, arguments);
                return;
            case SyncInOldWrite:
                await HeldAsync(migration.OldWrites, WriteAsync(migration, arguments), "the Sync writes");
                return;
            case BatchWriteBacks:
                await WriteAsync(migration, arguments);
                await HeldAsync(migration.OldWrites, migration.Dispatcher.RunOnceAsync().AsTask(), "the batch");
                return;
            case BatchEvents:
                await HeldAsync(migration.Handler, migration.Dispatcher.RunOnceAsync().AsTask(), "the batch");
                return;
            default:
                throw new ArgumentException($"Unknown crash point '{arguments.Point}'.", nameof(arguments));
        }
    }

    /// <summary>Every save and delete at once: with Sync, each is then held in its own old-store write.</summary>
    private static Task WriteAsync(CrashMigration migration, CrashArguments arguments) =>
        Task.WhenAll(
            arguments
                .Save.Select(id => migration.Repository.SaveAsync(id, Customer.Create(id, arguments.SavedVersion)))
                .Concat(arguments.Delete.Select(id => migration.Repository.DeleteAsync(id)))
                .Select(write => write.AsTask())
        );

    /// <summary>Returns once the gate holds its calls; fails if the work ended instead, so no READY is a lie.</summary>
    private static async Task HeldAsync(CrashGate gate, Task work, string what)
    {
        if (await Task.WhenAny(gate.Holding, work) == work)
        {
            await work;
            throw new InvalidOperationException($"{what} finished without reaching the crash point.");
        }
    }
}
