namespace LazyMigrate;

/// <summary>The store the entities are migrating away from.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <remarks>Implementations are thread-safe. Ids are strings; an adapter converts them to its key type and throws
/// <see cref="InvalidEntityIdException"/> for an id it cannot convert.</remarks>
public interface IOldStore<TOld>
    where TOld : class
{
    /// <summary>Finds one entity.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The entity, or <see langword="null"/> when the store does not hold it.</returns>
    ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Finds several entities in one call.</summary>
    /// <param name="ids">Distinct entity ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The entities found, by id; ids the store does not hold are left out.</returns>
    ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Enumerates the store in its id order, starting after a cursor: for example ordinal order for text keys under a
    /// binary collation, numeric order for integer keys, byte order for UUIDs; a store documents its order. Resuming
    /// after any id it returned yields every later entity once.
    /// </summary>
    /// <param name="afterId">The last id already seen, or <see langword="null"/> to start at the beginning.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The entities after <paramref name="afterId"/>, in the store's id order.</returns>
    IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    );

    /// <summary>Inserts or replaces one entity (write-back of a save).</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity to store.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <exception cref="WriteBackSupersededException">
    /// A store that can tell refused the write-back, writing nothing: the entity was written through the old API after
    /// the write-back's intent. LazyMigrate completes the write-back as skipped, not as a failure, when the exception
    /// names <paramref name="id"/> as given, with an <see cref="WriteBackSupersededException.EntityCount"/> of 1.
    /// </exception>
    ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default);

    /// <summary>Deletes one entity if present (write-back of a delete).</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <exception cref="WriteBackSupersededException">As for <see cref="UpsertAsync"/>.</exception>
    ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Throws <see cref="InvalidEntityIdException"/> if the store cannot key an entity on <paramref name="id"/> (for
    /// example an id that is not a whole number, for an integer key). Write-back calls it before it changes the new
    /// store, so that an id only the new store accepts fails the write before anything is written. A store decorator
    /// forwards it.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <exception cref="InvalidEntityIdException">The store cannot key an entity on the id.</exception>
    /// <remarks>The default accepts every id: the store's own calls still reject what they cannot key on.</remarks>
    void ValidateId(string id) { }
}
