namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The start-up check of one store of one migration, run by <see cref="EntityFrameworkCoreStartupChecks"/>.
/// </summary>
internal interface IStoreStartupCheck
{
    /// <summary>Gets the migration name.</summary>
    string Migration { get; }

    /// <summary>Gets the store's role, <c>old store</c> or <c>new store</c>.</summary>
    string Role { get; }

    /// <summary>
    /// Checks the store, unless the migration no longer uses it (a later <c>Use...</c> call replaced it).
    /// </summary>
    /// <exception cref="InvalidOperationException">The check failed; the cause is the inner exception.</exception>
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}
