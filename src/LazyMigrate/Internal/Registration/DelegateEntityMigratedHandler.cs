namespace LazyMigrate.Internal;

/// <summary>An event handler made of the callback given to <c>OnMigrated</c>.</summary>
internal sealed class DelegateEntityMigratedHandler<TOld, TNew>(
    Func<EntityMigrated<TOld, TNew>, CancellationToken, ValueTask> handle
) : IEntityMigratedHandler<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public ValueTask HandleAsync(EntityMigrated<TOld, TNew> migrated, CancellationToken cancellationToken) =>
        handle(migrated, cancellationToken);
}
