namespace LazyMigrate.Internal;

/// <summary>
/// Calls every handler of one migration with an event, each within a time limit, on the dispatcher's side of the
/// outbox: a failure is returned for the item's retry, never thrown at a reader.
/// </summary>
internal sealed class EventDelivery<TOld, TNew>(
    IEntityMigratedHandler<TOld, TNew>[] handlers,
    TimeProvider timeProvider
)
    where TOld : class
    where TNew : class
{
    public bool HasHandlers => handlers.Length > 0;

    /// <summary>Calls every handler, even after one failed; returns the failure, or <see langword="null"/>.</summary>
    /// <remarks>
    /// A handler that outlives <paramref name="timeout"/> is cancelled and counted failed; one that ignores its token
    /// runs on, unobserved, and the dispatcher moves on. A retry calls every handler again: handlers deduplicate by
    /// <see cref="EntityMigrated{TOld, TNew}.EventId"/>.
    /// </remarks>
    public async Task<Exception?> DeliverAsync(
        EntityMigrated<TOld, TNew> migrated,
        TimeSpan timeout,
        CancellationToken cancellationToken
    )
    {
        List<Exception>? failures = null;
        foreach (IEntityMigratedHandler<TOld, TNew> handler in handlers)
        {
            using var limit = new CancellationTokenSource(timeout, timeProvider);
            using CancellationTokenRegistration stop = cancellationToken.Register(
                static s => ((CancellationTokenSource)s!).Cancel(),
                limit
            );
            try
            {
                await handler
                    .HandleAsync(migrated, limit.Token)
                    .AsTask()
                    .WaitAsync(timeout, timeProvider, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                (failures ??= []).Add(
                    exception is OperationCanceledException && limit.IsCancellationRequested
                        ? new TimeoutException($"The handler {handler.GetType().Name} did not finish in {timeout}.")
                        : exception
                );
            }
        }

        return failures switch
        {
            null => null,
            [Exception only] => only,
            _ => new AggregateException(failures),
        };
    }
}
