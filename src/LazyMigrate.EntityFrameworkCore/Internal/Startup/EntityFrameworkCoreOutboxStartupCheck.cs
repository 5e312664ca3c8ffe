using System.Data.Common;
using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Checks a migration's EF Core outbox when the host starts (see <see
/// cref="EntityFrameworkCoreOutboxOptions.CheckOnStart"/>): the database opens and the outbox table answers a query
/// that reads no row. The model itself is checked earlier, by options validation.
/// </summary>
/// <param name="migration">The migration name.</param>
/// <param name="role">The outbox's role in messages, <c>outbox</c>.</param>
/// <param name="optionsName">The name of the outbox's options.</param>
internal sealed class EntityFrameworkCoreOutboxStartupCheck<TContext>(string migration, string role, string optionsName)
    : IStoreStartupCheck
    where TContext : DbContext
{
    public string Migration { get; } = migration;

    public string Role { get; } = role;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Another outbox registered later replaces this one: a table the migration no longer uses is not checked.
        if (services.GetKeyedService<IMigrationOutbox>(Migration) is not EntityFrameworkCoreOutbox<TContext> outbox)
        {
            return;
        }

        if (
            !services
                .GetRequiredService<IOptionsMonitor<EntityFrameworkCoreOutboxOptions>>()
                .Get(optionsName)
                .CheckOnStart
        )
        {
            return;
        }

        TContext context = await outbox.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            try
            {
                await context
                    .Set<LazyMigrateOutboxItem>()
                    .AsNoTracking()
                    .Where(_ => false)
                    .ToListAsync(cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is DbException or TimeoutException)
            {
                string cause = EntityFrameworkCoreStoreStartupCheck<TContext, LazyMigrateOutboxItem, string>.FirstLine(
                    exception.Message
                );
                throw new InvalidOperationException(
                    $"LazyMigrate migration '{Migration}': the EF Core {Role} "
                        + $"(table {outbox.TableName} in {typeof(TContext).Name}) "
                        + $"failed its start-up check: {cause}. "
                        + "Create the table with the context's migrations (modelBuilder.AddLazyMigrateOutbox() maps "
                        + "it) or EnsureCreated; or set "
                        + "EntityFrameworkCoreOutboxOptions.CheckOnStart = false to skip this check.",
                    exception
                );
            }
        }
    }
}
