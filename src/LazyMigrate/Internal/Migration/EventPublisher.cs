using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>
/// Raises <see cref="EntityMigrated{TOld, TNew}"/> to every handler; a handler that throws is logged and counted, never
/// rethrown.
/// </summary>
internal sealed class EventPublisher<TOld, TNew>(
    string migration,
    IEntityMigratedHandler<TOld, TNew>[] handlers,
    TimeProvider timeProvider,
    MigrationMetrics metrics,
    ILogger logger
)
    where TOld : class
    where TNew : class
{
    public async ValueTask PublishAsync(
        string id,
        TOld oldValue,
        TNew newValue,
        MigrationTrigger trigger,
        CancellationToken cancellationToken
    )
    {
        Log.EntityMigrated(logger, migration, id, trigger);
        if (handlers.Length == 0)
        {
            return;
        }

        var migrated = new EntityMigrated<TOld, TNew>(
            EntityMigratedEventId.For(migration, id),
            migration,
            id,
            oldValue,
            newValue,
            trigger,
            timeProvider.GetUtcNow()
        );

        foreach (IEntityMigratedHandler<TOld, TNew> handler in handlers)
        {
            try
            {
                await handler.HandleAsync(migrated, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The entity is in the new store already: a handler's failure must not turn a good read into an error.
                Log.HandlerFailed(logger, migration, id, exception);
                metrics.Failure(migration, FailureKinds.Handler);
            }
        }
    }
}
