using System.Linq.Expressions;
using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// The <c>Use...</c> methods of the Entity Framework Core adapter for <see cref="ILazyMigrationBuilder{TOld, TNew}"/>.
/// </summary>
public static partial class EntityFrameworkCoreBuilderExtensions
{
    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the old store, with a context from the container's
    /// <see cref="IDbContextFactory{TContext}"/> per call (register it with <c>services.AddDbContextFactory</c>).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type; inferred from <paramref name="set"/>.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key; inferred from <paramref name="key"/>.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set, with the context type written out: <c>(LegacyDb db) =&gt;
    /// db.Customers</c>.</param>
    /// <param name="key">Selects the primary key property: <c>customer =&gt; customer.Id</c>, or <c>customer =&gt;
    /// EF.Property&lt;int&gt;(customer, "Id")</c> for a shadow key.</param>
    /// <param name="configure">Configures the store's options (id conversion, scan page size, ...), if needed.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreOldStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TOld>> set,
        Expression<Func<TOld, TKey>> key,
        Action<EntityFrameworkCoreStoreOptions<TKey>>? configure = null
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull => UseOldStore(builder, set, EntityKey<TOld, TKey>.NameOf(key), configure);

    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the old store, keyed by the primary key of the model
    /// (a single property of type <typeparamref name="TKey"/>, shadow or not), with a context from the container's
    /// <see cref="IDbContextFactory{TContext}"/> per call (register it with <c>services.AddDbContextFactory</c>).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set: <c>db =&gt; db.Customers</c>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up: a composite key or a key of another
    /// type than <typeparamref name="TKey"/> fails it.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreOldStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TOld>> set
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull =>
        UseOldStore<TOld, TNew, TContext, TKey>(builder, set, keyProperty: null, configure: null);

    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the old store, keyed by the primary key of the model
    /// (a single property of type <typeparamref name="TKey"/>, shadow or not), with a context from the container's
    /// <see cref="IDbContextFactory{TContext}"/> per call (register it with <c>services.AddDbContextFactory</c>).
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set: <c>db =&gt; db.Customers</c>.</param>
    /// <param name="configure">Configures the store's options (id conversion, scan page size, ...), if needed.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up: a composite key or a key of another
    /// type than <typeparamref name="TKey"/> fails it.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreOldStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TOld>> set,
        Action<EntityFrameworkCoreStoreOptions<TKey>> configure
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull => UseOldStore(builder, set, keyProperty: null, configure);

    private static ILazyMigrationBuilder<TOld, TNew> UseOldStore<TOld, TNew, TContext, TKey>(
        ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TOld>> set,
        string? keyProperty,
        Action<EntityFrameworkCoreStoreOptions<TKey>>? configure
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull
    {
        string name = AddOptions(
            builder,
            "old store",
            set,
            keyProperty,
            configure,
            needsEntries: false,
            sp =>
                sp.GetRequiredKeyedService<IOldStore<TOld>>(builder.Name)
                is EntityFrameworkCoreOldStore<TContext, TOld, TKey>
        );
        return builder.UseOldStore(services =>
            EntityFrameworkCoreOldStore<TContext, TOld, TKey>.Create(
                services.GetRequiredService<IDbContextFactory<TContext>>(),
                set,
                keyProperty,
                Options<TKey>(services, name),
                Logger(services)
            )
        );
    }

    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the new store, with a context from the container's
    /// <see cref="IDbContextFactory{TContext}"/> per call (register it with <c>services.AddDbContextFactory</c>). The
    /// context must map <see cref="LazyMigrateEntry"/>: call <c>modelBuilder.AddLazyMigrateEntries()</c> in its
    /// <c>OnModelCreating</c>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type; inferred from <paramref name="set"/>.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key; inferred from <paramref name="key"/>.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set, with the context type written out: <c>(CustomerDb db) =&gt;
    /// db.Customers</c>.</param>
    /// <param name="key">Selects the primary key property: <c>customer =&gt; customer.Id</c>, or <c>customer =&gt;
    /// EF.Property&lt;string&gt;(customer, "Id")</c> for a shadow key.</param>
    /// <param name="configure">Configures the store's options (id conversion, entity type name, ...), if
    /// needed.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreNewStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TNew>> set,
        Expression<Func<TNew, TKey>> key,
        Action<EntityFrameworkCoreStoreOptions<TKey>>? configure = null
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull => UseNewStore(builder, set, EntityKey<TNew, TKey>.NameOf(key), configure);

    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the new store, keyed by the primary key of the model
    /// (a single property of type <typeparamref name="TKey"/>; a shadow key leaves the new model free of an id
    /// member), with a context from the container's <see cref="IDbContextFactory{TContext}"/> per call. The context
    /// must map <see cref="LazyMigrateEntry"/>: call <c>modelBuilder.AddLazyMigrateEntries()</c> in its
    /// <c>OnModelCreating</c>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set: <c>db =&gt; db.Customers</c>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up: a composite key or a key of another
    /// type than <typeparamref name="TKey"/> fails it.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreNewStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TNew>> set
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull =>
        UseNewStore<TOld, TNew, TContext, TKey>(builder, set, keyProperty: null, configure: null);

    /// <summary>
    /// Uses an entity set of <typeparamref name="TContext"/> as the new store, keyed by the primary key of the model
    /// (a single property of type <typeparamref name="TKey"/>; a shadow key leaves the new model free of an id
    /// member), with a context from the container's <see cref="IDbContextFactory{TContext}"/> per call. The context
    /// must map <see cref="LazyMigrateEntry"/>: call <c>modelBuilder.AddLazyMigrateEntries()</c> in its
    /// <c>OnModelCreating</c>.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <typeparam name="TKey">The CLR type of the primary key.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="set">Selects the entity set: <c>db =&gt; db.Customers</c>.</param>
    /// <param name="configure">Configures the store's options (id conversion, entity type name, ...), if
    /// needed.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The options and the context's model are validated at start-up: a composite key or a key of another
    /// type than <typeparamref name="TKey"/> fails it.</remarks>
    public static ILazyMigrationBuilder<TOld, TNew> UseEntityFrameworkCoreNewStore<TOld, TNew, TContext, TKey>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TNew>> set,
        Action<EntityFrameworkCoreStoreOptions<TKey>> configure
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull => UseNewStore(builder, set, keyProperty: null, configure);

    private static ILazyMigrationBuilder<TOld, TNew> UseNewStore<TOld, TNew, TContext, TKey>(
        ILazyMigrationBuilder<TOld, TNew> builder,
        Func<TContext, DbSet<TNew>> set,
        string? keyProperty,
        Action<EntityFrameworkCoreStoreOptions<TKey>>? configure
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TKey : notnull
    {
        string name = AddOptions(
            builder,
            "new store",
            set,
            keyProperty,
            configure,
            needsEntries: true,
            sp =>
                sp.GetRequiredKeyedService<INewStore<TNew>>(builder.Name)
                    is EntityFrameworkCoreNewStore<TContext, TNew, TKey>
                        or EntityFrameworkCoreOutboxNewStore<TContext, TNew, TKey>
        );
        return builder.UseNewStore(services =>
        {
            var store = EntityFrameworkCoreNewStore<TContext, TNew, TKey>.Create(
                services.GetRequiredService<IDbContextFactory<TContext>>(),
                set,
                keyProperty,
                Options<TKey>(services, name),
                Logger(services)
            );

            // The store records intents with its writes only into an outbox of its own context, whichever of the two
            // Use... calls came first.
            return
                services.GetKeyedService<IMigrationOutbox>(builder.Name) is EntityFrameworkCoreOutbox<TContext> outbox
                ? new EntityFrameworkCoreOutboxNewStore<TContext, TNew, TKey>(store, outbox)
                : (INewStore<TNew>)store;
        });
    }

    /// <summary>Registers the store's named options, validated at start-up; returns their name.</summary>
    private static string AddOptions<TOld, TNew, TContext, TEntity, TKey>(
        ILazyMigrationBuilder<TOld, TNew> builder,
        string role,
        Func<TContext, DbSet<TEntity>> set,
        string? keyProperty,
        Action<EntityFrameworkCoreStoreOptions<TKey>>? configure,
        bool needsEntries,
        Func<IServiceProvider, bool> isInUse
    )
        where TOld : class
        where TNew : class
        where TContext : DbContext
        where TEntity : class
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(set);
        string name = $"{builder.Name}:{role}";
        builder
            .Services.AddOptions<EntityFrameworkCoreStoreOptions<TKey>>(name)
            .Configure(options => configure?.Invoke(options))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EntityFrameworkCoreStoreOptions<TKey>>>(
            services => new EntityFrameworkCoreStoreValidator<TContext, TEntity, TKey>(
                name,
                $"Migration '{builder.Name}', EF Core {role}",
                services,
                set,
                keyProperty,
                needsEntries
            )
        );
        EntityFrameworkCoreStartupChecks.Add(
            builder.Services,
            new EntityFrameworkCoreStoreStartupCheck<TContext, TEntity, TKey>(
                builder.Name,
                role,
                name,
                set,
                needsEntries,
                isInUse
            )
        );
        return name;
    }

    private static EntityFrameworkCoreStoreOptions<TKey> Options<TKey>(IServiceProvider services, string name)
        where TKey : notnull =>
        services.GetRequiredService<IOptionsMonitor<EntityFrameworkCoreStoreOptions<TKey>>>().Get(name);

    private static ILogger? Logger(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger(Log.CategoryName);
}
