namespace LazyMigrate.InMemory;

/// <summary>Wires the in-memory adapters into a migration, for unit tests and samples.</summary>
public static class InMemoryBuilderExtensions
{
    /// <summary>Uses an in-memory old store.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="store">The store to use (so a test can seed and inspect it), or <see langword="null"/> for a new
    /// one.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseInMemoryOldStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        InMemoryOldStore<TOld>? store = null
    )
        where TOld : class
        where TNew : class => builder.UseOldStore(store ?? new InMemoryOldStore<TOld>());

    /// <summary>Uses an in-memory new store.</summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="store">The store to use (so a test can seed and inspect it), or <see langword="null"/> for a new
    /// one.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseInMemoryNewStore<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        InMemoryNewStore<TNew>? store = null
    )
        where TOld : class
        where TNew : class => builder.UseNewStore(store ?? new InMemoryNewStore<TNew>());

    /// <summary>
    /// Uses an in-memory lock; share one provider between containers to stand in for a distributed lock.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="lockProvider">The provider to use, or <see langword="null"/> for a new one.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseInMemoryLock<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        InMemoryMigrationLockProvider? lockProvider = null
    )
        where TOld : class
        where TNew : class => builder.UseLock(lockProvider ?? new InMemoryMigrationLockProvider());

    /// <summary>
    /// Uses an in-memory outbox, for tests: it holds every rule of the outbox but not durability, and makes
    /// <see cref="WriteBackMode.Async"/> available without a database.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <typeparam name="TNew">The entity type of the new store.</typeparam>
    /// <param name="builder">The migration builder.</param>
    /// <param name="outbox">The outbox to use (so a test can inspect it, or share it between two containers that
    /// stand for two instances), or <see langword="null"/> for a new one.</param>
    /// <returns>The builder.</returns>
    public static ILazyMigrationBuilder<TOld, TNew> UseInMemoryOutbox<TOld, TNew>(
        this ILazyMigrationBuilder<TOld, TNew> builder,
        InMemoryOutbox? outbox = null
    )
        where TOld : class
        where TNew : class => builder.UseOutbox(outbox ?? new InMemoryOutbox());
}
