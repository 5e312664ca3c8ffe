namespace LazyMigrate;

/// <summary>
/// Handles <see cref="EntityMigrated{TOld, TNew}"/> events; register through DI or <c>OnMigrated</c> on the builder.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>A handler that throws is logged and counted; it never undoes the migration and never fails the
/// read.</remarks>
public interface IEntityMigratedHandler<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Handles one event.</summary>
    /// <param name="migrated">The event.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask HandleAsync(EntityMigrated<TOld, TNew> migrated, CancellationToken cancellationToken);
}
