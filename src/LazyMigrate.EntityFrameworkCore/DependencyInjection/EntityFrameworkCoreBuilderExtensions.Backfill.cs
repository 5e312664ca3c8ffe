using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore;

public static partial class EntityFrameworkCoreBuilderExtensions
{
    /// <summary>
    /// Keeps the migration's backfill checkpoint, lease and quarantine in an <see
    /// cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/>, with a context from the container's <see
    /// cref="IDbContextFactory{TContext}"/> per call, so that a backfill resumes where any instance left it. The
    /// context must map the tables: call <c>modelBuilder.AddLazyMigrateBackfill()</c> in its <c>OnModelCreating</c>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreBackfillCheckpoints<TOld, TNew, TContext>(
        this ILazyMigrationBuilder<TOld, TNew> builder
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseBackfillCheckpointStore(services => new EntityFrameworkCoreBackfillCheckpointStore<TContext>(
            services.GetRequiredService<IDbContextFactory<TContext>>()
        ));
    }
}
