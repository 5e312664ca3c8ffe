namespace LazyMigrate;

/// <summary>
/// A lock of an <see cref="ILockingNewStore{TNew}"/> that also read the old store under the lock, in the same call as
/// its own re-read (for example both tables in one PostgreSQL database): the migration then skips its own old-store
/// read.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
public interface IOldStoreReadAlong<TOld>
    where TOld : class
{
    /// <summary>
    /// Gets the old store's entities for the locked ids that the new store lacked when they were locked (the ids
    /// missing from <see cref="INewStoreLock{TNew}.Current"/>), read under the lock; ids the old store lacks too are
    /// left out.
    /// </summary>
    IReadOnlyDictionary<string, TOld> OldEntities { get; }
}
