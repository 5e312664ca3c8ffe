namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>The start-up check of one store of one migration, run by <see
/// cref="EntityFrameworkCoreStartupChecks"/>.</summary>
internal interface IStoreStartupCheck
{
    /// <exception cref="InvalidOperationException">The check failed; the cause is the inner exception.</exception>
    Task RunAsync(CancellationToken cancellationToken);
}
