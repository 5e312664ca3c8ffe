namespace LazyMigrate.Outbox;

/// <summary>
/// Locks of an <see cref="IOutboxNewStore{TNew}"/> that also locks its own entities: its insert records the intents
/// of the ids it inserted in the same call that inserts and releases.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IOutboxNewStoreLock<TNew> : INewStoreLock<TNew>
    where TNew : class
{
    /// <summary>
    /// Inserts each entity unless its id holds a value or a tombstone, records the intent of each id inserted, and
    /// releases the locks, in one call and one transaction. The locks are released whether the call succeeds or not.
    /// </summary>
    /// <param name="entities">Entities by distinct, locked id.</param>
    /// <param name="intents">The intent of each entity, by id, recorded only if the entity is inserted.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The ids this call inserted.</returns>
    ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentRecordAndReleaseAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken = default
    );
}
