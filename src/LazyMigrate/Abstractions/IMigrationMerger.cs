namespace LazyMigrate;

/// <summary>
/// Builds the new store's entity from a record written through the old API and the entity the new store holds now, so
/// that fields only the new model has (which the old record cannot carry) survive a forward sync. Without one, a
/// forward sync maps the old record with the migration's <see cref="IMigrationMapper{TOld, TNew}"/>, as a migration
/// does.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IMigrationMerger<in TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>
    /// Merges one old record into the new store's current entity. Throwing (or returning <see langword="null"/>) fails
    /// this forward sync only, before anything is written; the dispatcher retries it, then dead-letters it.
    /// </summary>
    /// <param name="entity">The old store's record as it is now, read under the entity's lock.</param>
    /// <param name="current">
    /// The new store's entity as it is now, read under the same lock. Return a new entity (a <c>with</c> copy) rather
    /// than change this one: a store may hand out the object it holds.
    /// </param>
    /// <returns>The entity to write to the new store.</returns>
    TNew Merge(TOld entity, TNew current);
}
