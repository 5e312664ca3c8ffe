namespace LazyMigrate.Backfill;

/// <summary>
/// An old store that can count its entities after a cursor, so that a backfill's progress has an estimated time left.
/// Optional: a backfill runs without it.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
public interface IOldStoreCounter<TOld>
    where TOld : class
{
    /// <summary>Counts the entities after a cursor, in the order of <see cref="IOldStore{TOld}.ScanAsync"/>.</summary>
    /// <param name="afterId">The cursor, or <see langword="null"/> to count them all.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The count; an estimate is good enough.</returns>
    ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default);
}
