namespace LazyMigrate;

/// <summary>Maps an entity of the new model back to the old model, for write-back to the old store.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IReverseMigrationMapper<out TOld, in TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Maps one entity back. Throwing fails the write before anything is written.</summary>
    /// <param name="entity">The entity being saved through the new API.</param>
    /// <returns>The entity to write to the old store.</returns>
    TOld MapBack(TNew entity);
}
