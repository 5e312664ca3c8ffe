namespace LazyMigrate.Internal;

/// <summary>Which lock guards a migration's entities.</summary>
internal enum MigrationLockKind
{
    /// <summary>None: <see cref="LazyMigrationOptions.UseLock"/> is off.</summary>
    None,

    /// <summary>An <see cref="IMigrationLockProvider"/>: the migration's own, else the container's.</summary>
    Provider,

    /// <summary>The new store's own locks (<see cref="ILockingNewStore{TNew}"/>).</summary>
    NewStore,
}

/// <summary>
/// Chooses a migration's lock, the same way at start-up (the validator) and when the repository is built: no lock when
/// <see cref="LazyMigrationOptions.UseLock"/> is off; the new store's when <c>UseNewStoreLock</c> asked for it; else a
/// lock provider when one is registered (an explicit <c>UseLock</c> wins); else the new store's own lock when it can
/// lock itself, the fastest there is.
/// </summary>
internal static class MigrationLockChoice
{
    /// <summary>Tells whether the choice depends on the new store: whether the validator must build it.</summary>
    public static bool DependsOnNewStore(LazyMigrationOptions options, bool hasLockProvider) =>
        options.UseLock && (options.LockInNewStore || !hasLockProvider);

    /// <summary>Chooses the lock, or says why none fits.</summary>
    /// <param name="options">The migration's options.</param>
    /// <param name="hasLockProvider">Whether a lock provider is registered for the migration or the container.</param>
    /// <param name="newStore">The migration's new store.</param>
    /// <param name="problem">Why no lock fits, or <see langword="null"/>.</param>
    /// <returns>The lock to use; meaningless when <paramref name="problem"/> is set.</returns>
    public static MigrationLockKind Choose<TNew>(
        LazyMigrationOptions options,
        bool hasLockProvider,
        INewStore<TNew> newStore,
        out string? problem
    )
        where TNew : class
    {
        problem = null;
        if (!options.UseLock)
        {
            return MigrationLockKind.None;
        }

        if (!DependsOnNewStore(options, hasLockProvider))
        {
            return MigrationLockKind.Provider;
        }

        if (newStore is not ILockingNewStore<TNew>)
        {
            string store = newStore.GetType().Name;
            string locking = $"ILockingNewStore<{typeof(TNew).Name}>";
            problem = options.LockInNewStore
                ? $"LockInNewStore (UseNewStoreLock) needs a new store that implements {locking}; "
                    + $"{store} does not: call UseLock or a "
                    + "lock adapter's Use...Lock instead."
                : $"needs a lock: the new store {store} cannot lock itself (it does not implement {locking}) "
                    + "and no lock provider "
                    + "is registered. Call UseLock, UseInMemoryLock, UseDistributedLock or UsePostgreSqlAdvisoryLock, "
                    + "register an "
                    + "IMigrationLockProvider, or set UseLock to false to rely on insert-if-absent alone.";
        }

        return MigrationLockKind.NewStore;
    }
}
