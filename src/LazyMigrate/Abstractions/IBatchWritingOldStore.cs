namespace LazyMigrate;

/// <summary>
/// An old store that writes many entities in one call. The dispatcher writes a batch of write-backs through it in a
/// round trip or two (its upserts, its deletes) instead of one call per entity; a store without it gets one call per
/// entity, <see cref="Outbox.OutboxOptions.MaxParallelWrites"/> at a time.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <remarks>
/// Neither call needs to be atomic. When one fails, the dispatcher writes each of its entities on its own through
/// <see cref="IOldStore{TOld}.UpsertAsync"/> or <see cref="IOldStore{TOld}.DeleteAsync"/>, so that an entity the store
/// refuses fails alone and the others are written (a write-back is state-based: writing an entity twice converges).
/// A call that throws <see cref="WriteBackSupersededException"/> (its first id and
/// <see cref="WriteBackSupersededException.EntityCount"/>) must have written none of its entities: each is then written
/// alone too, and the ones refused again are completed as skipped.
/// </remarks>
public interface IBatchWritingOldStore<TOld> : IOldStore<TOld>
    where TOld : class
{
    /// <summary>Inserts or replaces several entities.</summary>
    /// <param name="entities">The entities to store, by id; the ids are distinct.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> entities,
        CancellationToken cancellationToken = default
    );

    /// <summary>Deletes several entities where present.</summary>
    /// <param name="ids">The entity ids; distinct.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask DeleteManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);
}
