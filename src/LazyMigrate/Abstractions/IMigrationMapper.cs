namespace LazyMigrate;

/// <summary>Maps an entity of the old model to the new model.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IMigrationMapper<in TOld, out TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Maps one entity. Throwing fails this migration only; nothing is written.</summary>
    /// <param name="entity">The entity read from the old store.</param>
    /// <returns>The entity to insert into the new store.</returns>
    TNew Map(TOld entity);
}
