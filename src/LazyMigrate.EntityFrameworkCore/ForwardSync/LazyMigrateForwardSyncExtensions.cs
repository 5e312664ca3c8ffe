using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>Forward sync for legacy code that writes the old store through its own EF Core context.</summary>
public static class LazyMigrateForwardSyncExtensions
{
    /// <summary>
    /// Adds an interceptor to a legacy context that records, for every <c>SaveChanges</c>, the ids of the
    /// <typeparamref name="TOld"/> rows it inserted, updated or deleted, so that the migration's dispatcher brings the
    /// new store up to date (<see cref="LazyMigrationOptions.ForwardSync"/>). The legacy code is not changed otherwise.
    /// </summary>
    /// <typeparam name="TOld">The legacy entity type, as the legacy context maps it (single-column key).</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The legacy context's options builder.</param>
    /// <param name="services">The application's services, which hold the migration.</param>
    /// <param name="migrationName">The migration's name when the container holds several of the two types.</param>
    /// <param name="formatKey">
    /// Formats a key as the migration's id; by default its invariant-culture string, as the EF Core stores do.
    /// </param>
    /// <returns>The options builder.</returns>
    /// <remarks>
    /// When the legacy context also maps LazyMigrate's outbox (<c>modelBuilder.AddLazyMigrateOutbox()</c>: the outbox
    /// lives in the legacy database), the items are written by the same save, in its transaction; a row whose key the
    /// database generates is recorded once the save committed, as in every other case. LazyMigrate's own writes to
    /// the old store (write-backs) are never recorded. Bulk <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> calls bypass
    /// <c>SaveChanges</c>: record those ids with <see cref="Outbox.IOldStoreChangeRecorder{TOld, TNew}"/>.
    /// </remarks>
    public static DbContextOptionsBuilder AddLazyMigrateForwardSync<TOld, TNew>(
        this DbContextOptionsBuilder builder,
        IServiceProvider services,
        string? migrationName = null,
        Func<object, string>? formatKey = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);
        return builder.AddInterceptors(new ForwardSyncInterceptor<TOld, TNew>(services, migrationName, formatKey));
    }
}
