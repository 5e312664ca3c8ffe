using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore;

public static partial class EntityFrameworkCoreBuilderExtensions
{
    /// <summary>
    /// Uses an <see cref="EntityFrameworkCoreOutbox{TContext}"/> as the migration's outbox, with a context from the
    /// container's <see cref="IDbContextFactory{TContext}"/> per call. The context must map the outbox table: call
    /// <c>modelBuilder.AddLazyMigrateOutbox()</c> in its <c>OnModelCreating</c>. When the migration's EF Core new store
    /// (<c>UseEntityFrameworkCoreNewStore</c>, before or after this call) uses the same context type, it records every
    /// intent in the transaction of its write (it is an <see cref="EntityFrameworkCoreOutboxNewStore{TContext, TEntity,
    /// TKey}"/>). The options and the model are validated, and the table checked (<see
    /// cref="EntityFrameworkCoreOutboxOptions.CheckOnStart"/>), when the host starts.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type: the new store's, for writes and intents to commit together.
    /// </typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="configure">Configures the outbox options, if needed.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreOutbox<TOld, TNew, TContext>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Action<EntityFrameworkCoreOutboxOptions>? configure = null
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        OutboxRows.ValidateMigration(builder.Name);
        string name = $"{builder.Name}:{OutboxRole}";
        builder
            .Services.AddOptions<EntityFrameworkCoreOutboxOptions>(name)
            .Configure(options => configure?.Invoke(options))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EntityFrameworkCoreOutboxOptions>>(
            services => new EntityFrameworkCoreOutboxValidator<TContext>(
                name,
                $"Migration '{builder.Name}', EF Core {OutboxRole}",
                services
            )
        );
        EntityFrameworkCoreStartupChecks.Add(
            builder.Services,
            new EntityFrameworkCoreOutboxStartupCheck<TContext>(builder.Name, OutboxRole, name)
        );
        return builder.UseOutbox(services => new EntityFrameworkCoreOutbox<TContext>(
            services.GetRequiredService<IDbContextFactory<TContext>>(),
            services.GetRequiredService<IOptionsMonitor<EntityFrameworkCoreOutboxOptions>>().Get(name),
            Logger(services)
        ));
    }

    /// <summary>The outbox's role, in its options' name, its messages and its start-up check.</summary>
    private const string OutboxRole = "outbox";
}
