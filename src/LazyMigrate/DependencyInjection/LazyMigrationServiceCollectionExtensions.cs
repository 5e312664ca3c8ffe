using System.Diagnostics.Metrics;
using LazyMigrate.Backfill;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LazyMigrate;

/// <summary>Registers migrations in an <see cref="IServiceCollection"/>.</summary>
public static class LazyMigrationServiceCollectionExtensions
{
    /// <summary>The interfaces <c>AddMigrationMapper</c> registers a mapper class under.</summary>
    private static readonly Type[] MapperInterfaces =
    [
        typeof(IMigrationMapper<,>),
        typeof(IReverseMigrationMapper<,>),
        typeof(IReverseMigrationMerger<,>),
    ];

    /// <summary>
    /// Registers <see cref="IMigratingRepository{TOld, TNew}"/> for one entity pair, named after the two types
    /// (<c>TOld-&gt;TNew</c>), unkeyed and keyed by that name. Several pairs can live in one container. The options and
    /// the required services (mapper, stores, lock) are validated at start-up.
    /// </summary>
    /// <remarks>A pair whose type names are another registered pair's gets the same name and is refused: name
    /// it.</remarks>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to choose the mapper, stores, lock and handlers.</returns>
    /// <exception cref="InvalidOperationException">Another pair is registered under the same name.</exception>
    public static ILazyMigrationBuilder<TOld, TNew> AddLazyMigration<TOld, TNew>(this IServiceCollection services)
        where TOld : class
        where TNew : class => services.AddLazyMigration<TOld, TNew>(MigrationName<TOld, TNew>.Default);

    /// <summary>
    /// Registers <see cref="IMigratingRepository{TOld, TNew}"/> for one entity pair, named after the two types, and
    /// configures its options.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder to choose the mapper, stores, lock and handlers.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> AddLazyMigration<TOld, TNew>(
        this IServiceCollection services,
        Action<LazyMigrationOptions> configure
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLazyMigration<TOld, TNew>(MigrationName<TOld, TNew>.Default, configure);
    }

    /// <summary>
    /// Registers <see cref="IMigratingRepository{TOld, TNew}"/> for one entity pair under an explicit name, for pairs
    /// whose type names alone would collide. Every instance of a service must use the same name.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The migration name: options name, lock-key prefix, event-id seed and metrics tag.</param>
    /// <param name="configure">Configures the options, if given.</param>
    /// <returns>A builder to choose the mapper, stores, lock and handlers.</returns>
    /// <exception cref="InvalidOperationException">
    /// The pair is already registered under another name, or another pair under this one.
    /// </exception>
    public static ILazyMigrationBuilder<TOld, TNew> AddLazyMigration<TOld, TNew>(
        this IServiceCollection services,
        string name,
        Action<LazyMigrationOptions>? configure = null
    )
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        RegisterName<TOld, TNew>(services, name);

        OptionsBuilder<LazyMigrationOptions> options = services.AddOptionsWithValidateOnStart<LazyMigrationOptions>(
            name
        );
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<
                IValidateOptions<LazyMigrationOptions>,
                LazyMigrationOptionsValidator<TOld, TNew>
            >()
        );
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new MigrationMetrics(sp.GetService<IMeterFactory>()));
        services.AddOptionsWithValidateOnStart<OutboxOptions>(name);
        services.AddOptionsWithValidateOnStart<BackfillOptions>(name);
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<BackfillOptions>, BackfillOptionsValidator>()
        );
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>()
        );
        bool isNew = !services.Any(d =>
            d.IsKeyedService && Equals(d.ServiceKey, name) && d.ServiceType == typeof(MigrationRuntime<TOld, TNew>)
        );
        services.TryAddKeyedSingleton(name, static (sp, _) => MigratingRepositoryFactory.Create<TOld, TNew>(sp));
        services.TryAddKeyedSingleton(
            name,
            static (sp, key) => sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(key).Repository
        );
        services.TryAddKeyedSingleton<IMigrationDispatcher<TOld, TNew>>(
            name,
            static (sp, key) => sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(key).Dispatcher
        );
        services.TryAddKeyedSingleton<IOldStoreChangeRecorder<TOld, TNew>>(
            name,
            static (sp, key) => sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(key).ChangeRecorder
        );
        services.TryAddKeyedSingleton<IBackfillRunner<TOld, TNew>>(
            name,
            static (sp, key) => sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(key).Backfill
        );
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IMigratingRepository<TOld, TNew>>(name));
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IBackfillRunner<TOld, TNew>>(name));
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IOldStoreChangeRecorder<TOld, TNew>>(name));
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IMigrationDispatcher<TOld, TNew>>(name));
        if (isNew)
        {
            services.AddSingleton<IOutboxDispatcherLoop>(sp =>
                sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(name).Dispatcher
            );
            services.AddSingleton<IBackfillLoop>(sp =>
                sp.GetRequiredKeyedService<MigrationRuntime<TOld, TNew>>(name).Backfill
            );
        }

        return new LazyMigrationBuilder<TOld, TNew>(services, name);
    }

    private static void RegisterName<TOld, TNew>(IServiceCollection services, string name)
        where TOld : class
        where TNew : class
    {
        var descriptor = new MigrationDescriptor<TOld, TNew>(name);
        IEnumerable<MigrationDescriptor> registeredMigrations = services
            .Where(d => !d.IsKeyedService)
            .Select(d => d.ImplementationInstance)
            .OfType<MigrationDescriptor>();
        foreach (MigrationDescriptor registered in registeredMigrations)
        {
            if (registered is MigrationDescriptor<TOld, TNew> same && same.Name != name)
            {
                throw new InvalidOperationException(
                    $"The migration {descriptor.Pair} is already registered under the name '{same.Name}', not '{name}'."
                );
            }

            // One name, one pair: two pairs under one name would share options, lock keys and event ids.
            if (registered is not MigrationDescriptor<TOld, TNew> && registered.Name == name)
            {
                throw new InvalidOperationException(
                    $"The migration name '{name}' is used by two pairs: {registered.Pair} and {descriptor.Pair}. "
                        + "A name is the options "
                        + "name, lock-key prefix and event-id seed of one pair, so name one of them explicitly: "
                        + "services.AddLazyMigration<TOld, TNew>(\"name\", ...), the same name on every instance."
                );
            }
        }

        services.TryAddSingleton(descriptor);
    }

    /// <summary>
    /// Registers <typeparamref name="TMapper"/> as a singleton under every <see cref="IMigrationMapper{TOld, TNew}"/>,
    /// <see cref="IReverseMigrationMapper{TOld, TNew}"/> and <see cref="IReverseMigrationMerger{TOld, TNew}"/> it
    /// implements, so one class can map both ways, for every migration of its pairs that has no mapper of its own.
    /// </summary>
    /// <remarks>
    /// A reverse mapper and a reverse merger are one part, the reverse mapping: registering one of a pair replaces the
    /// other registered before by another class. A class that implements both is used as the merger.
    /// </remarks>
    /// <typeparam name="TMapper">The mapper type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TMapper"/> implements no mapper interface.</exception>
    public static IServiceCollection AddMigrationMapper<TMapper>(this IServiceCollection services)
        where TMapper : class
    {
        ArgumentNullException.ThrowIfNull(services);
        Type[] mapperInterfaces = typeof(TMapper)
            .GetInterfaces()
            .Where(i => i.IsGenericType && MapperInterfaces.Contains(i.GetGenericTypeDefinition()))
            .ToArray();
        if (mapperInterfaces.Length == 0)
        {
            throw new ArgumentException(
                $"{typeof(TMapper).Name} implements none of IMigrationMapper<TOld, TNew>, "
                    + "IReverseMigrationMapper<TOld, TNew> and IReverseMigrationMerger<TOld, TNew>.",
                nameof(TMapper)
            );
        }

        services.TryAddSingleton<TMapper>();
        foreach (Type mapperInterface in mapperInterfaces)
        {
            if (OtherReverseMapping(mapperInterface) is { } other && !mapperInterfaces.Contains(other))
            {
                services.RemoveAll(other);
            }

            services.Replace(
                ServiceDescriptor.Singleton(mapperInterface, static sp => sp.GetRequiredService<TMapper>())
            );
        }

        return services;
    }

    /// <summary>
    /// The reverse mapping interface of the same pair that <paramref name="mapperInterface"/> replaces: the merger of
    /// a reverse mapper, the reverse mapper of a merger; <see langword="null"/> for a forward mapper.
    /// </summary>
    private static Type? OtherReverseMapping(Type mapperInterface)
    {
        Type definition = mapperInterface.GetGenericTypeDefinition();
        Type[] pair = mapperInterface.GetGenericArguments();
        if (definition == typeof(IReverseMigrationMapper<,>))
        {
            return typeof(IReverseMigrationMerger<,>).MakeGenericType(pair);
        }

        return definition == typeof(IReverseMigrationMerger<,>)
            ? typeof(IReverseMigrationMapper<,>).MakeGenericType(pair)
            : null;
    }
}
