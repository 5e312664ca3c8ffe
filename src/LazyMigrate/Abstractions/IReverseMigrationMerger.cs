namespace LazyMigrate;

/// <summary>
/// Builds the old store's record of an entity saved through the new API from the entity and the record the old store
/// holds now, so that fields only the old model has (which the new entity cannot carry) survive a write-back. Use it
/// instead of an <see cref="IReverseMigrationMapper{TOld, TNew}"/> when the old model knows more than the new one.
/// </summary>
/// <remarks>
/// A migration has one reverse mapping: a reverse mapper or a reverse merger, the last one configured. With a merger,
/// every write-back of a save reads the old store once more, under the entity's lock.
/// </remarks>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IReverseMigrationMerger<TOld, in TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>
    /// Merges one entity into the old store's current record. Throwing (or returning <see langword="null"/>) fails the
    /// write before anything is written to either store.
    /// </summary>
    /// <param name="entity">The entity being saved through the new API.</param>
    /// <param name="current">
    /// The old store's record of the entity as it is now, read under the entity's lock, so no other write-back of the
    /// id can change it before the merged record is written; <see langword="null"/> when the old store lacks it (an
    /// entity created through the new API, or recreated after a delete). Return a new record (a <c>with</c> copy)
    /// rather than change this one: a store may hand out the object it holds (the in-memory store does), and a change
    /// to it would reach the old store even if the write then fails.
    /// </param>
    /// <returns>The record to write to the old store.</returns>
    TOld MergeBack(TNew entity, TOld? current);
}
