using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Checks one EF Core store when the host starts (see <see
/// cref="EntityFrameworkCoreStoreOptions{TKey}.CheckOnStart"/>):
/// the database opens and the store's tables answer a query that reads no row, the entity's table and, for a new
/// store, the <see cref="LazyMigrateEntry"/> table. The model itself is checked earlier, by options validation.
/// </summary>
internal sealed class EntityFrameworkCoreStoreStartupCheck<TContext, TEntity, TKey>(
    string migration,
    string role,
    string optionsName,
    IServiceProvider services,
    Func<TContext, DbSet<TEntity>> set,
    bool needsEntries
) : IStoreStartupCheck
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (
            !services
                .GetRequiredService<IOptionsMonitor<EntityFrameworkCoreStoreOptions<TKey>>>()
                .Get(optionsName)
                .CheckOnStart
        )
        {
            return;
        }

        TContext context = services.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext();
        await using (context.ConfigureAwait(false))
        {
            try
            {
                await set(context).AsNoTracking().Take(0).ToListAsync(cancellationToken).ConfigureAwait(false);
                if (needsEntries)
                {
                    await context
                        .Set<LazyMigrateEntry>()
                        .AsNoTracking()
                        .Take(0)
                        .ToListAsync(cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is DbException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"LazyMigrate migration '{migration}': the EF Core {role} ({typeof(TEntity).Name} in {typeof(TContext).Name}) "
                        + $"failed its start-up check: {exception.Message.TrimEnd('.')}. Create the tables with the context's migrations, or set "
                        + $"{nameof(EntityFrameworkCoreStoreOptions<TKey>.CheckOnStart)} = false to skip this check.",
                    exception
                );
            }
        }
    }
}
