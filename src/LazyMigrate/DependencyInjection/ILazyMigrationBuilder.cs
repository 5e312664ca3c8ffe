using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate;

/// <summary>
/// Configures one migration (one entity pair); returned by <c>AddLazyMigration</c>. Adapter packages add <c>Use...</c>
/// extensions.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface ILazyMigrationBuilder<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Gets the service collection the migration is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Gets the migration name: its options name, lock-key prefix, metrics tag and the key of its parts in the
    /// container.
    /// </summary>
    string Name { get; }
}
