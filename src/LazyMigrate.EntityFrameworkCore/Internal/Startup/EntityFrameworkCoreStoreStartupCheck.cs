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
/// <param name="migration">The migration name.</param>
/// <param name="role">The store's role, <c>old store</c> or <c>new store</c>.</param>
/// <param name="optionsName">The name of the store's options.</param>
/// <param name="set">The store's entity set.</param>
/// <param name="needsEntries">Whether the store also reads the <see cref="LazyMigrateEntry"/> table (a new
/// store).</param>
/// <param name="isInUse">Whether the migration's store of this role is still this EF Core store.</param>
internal sealed class EntityFrameworkCoreStoreStartupCheck<TContext, TEntity, TKey>(
    string migration,
    string role,
    string optionsName,
    Func<TContext, DbSet<TEntity>> set,
    bool needsEntries,
    Func<IServiceProvider, bool> isInUse
) : IStoreStartupCheck
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    public string Migration { get; } = migration;

    public string Role { get; } = role;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // A store a later Use... call replaced is not the migration's any more: its tables need not exist.
        if (!isInUse(services))
        {
            return;
        }

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
                // A query that reads the columns and returns no row; Take(0) would too, with EF Core's warning of a
                // row limit without an order at every start.
                await set(context)
                    .AsNoTracking()
                    .Where(_ => false)
                    .ToListAsync(cancellationToken)
                    .ConfigureAwait(false);
                if (needsEntries)
                {
                    await context
                        .Set<LazyMigrateEntry>()
                        .AsNoTracking()
                        .Where(_ => false)
                        .ToListAsync(cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is DbException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"LazyMigrate migration '{Migration}': the EF Core {Role} "
                        + $"({typeof(TEntity).Name} in {typeof(TContext).Name}) "
                        + $"failed its start-up check: {FirstLine(exception.Message)}. "
                        + "Create the tables with the context's migrations, or, for a table that exists already (a "
                        + "legacy table), make the model's table and column names match it; or set "
                        + $"{nameof(EntityFrameworkCoreStoreOptions<TKey>.CheckOnStart)} = false to skip this check.",
                    exception
                );
            }
        }
    }

    /// <summary>The first line of a driver's message, without its final period (PostgreSQL adds a POSITION).</summary>
    internal static string FirstLine(string message)
    {
        int end = message.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).TrimEnd().TrimEnd('.');
    }
}
