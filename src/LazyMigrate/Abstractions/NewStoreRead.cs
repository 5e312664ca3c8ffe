namespace LazyMigrate;

/// <summary>What the new store holds for one id: an entity, a tombstone, or nothing.</summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public readonly struct NewStoreRead<TNew>
    where TNew : class
{
    private NewStoreRead(NewStoreState state, TNew? value, bool isStale = false)
    {
        State = state;
        Value = value;
        IsStale = isStale;
    }

    /// <summary>Gets a read of an id the store has never held.</summary>
    public static NewStoreRead<TNew> Missing => default;

    /// <summary>Gets a read of a tombstone.</summary>
    public static NewStoreRead<TNew> Deleted => new(NewStoreState.Deleted, null);

    /// <summary>Gets what the store holds for the id.</summary>
    public NewStoreState State { get; }

    /// <summary>
    /// Gets the entity when <see cref="State"/> is <see cref="NewStoreState.Found"/>; otherwise <see langword="null"/>.
    /// </summary>
    public TNew? Value { get; }

    /// <summary>
    /// Gets whether the old store was written through the old API since the new store last wrote this entity (or its
    /// tombstone): a forward sync is pending, and a read syncs the entity before it returns
    /// (<see cref="LazyMigrationOptions.ForwardSync"/>). A store that shares a database with the legacy table can know
    /// it at once (on PostgreSQL the capture trigger marks the row); any other store reports <see langword="false"/>.
    /// </summary>
    public bool IsStale { get; }

    /// <summary>Gets this read marked stale (<see cref="IsStale"/>); a read of a missing id stays as it is.</summary>
    /// <returns>The read, stale.</returns>
    public NewStoreRead<TNew> AsStale() => State == NewStoreState.Missing ? this : new(State, Value, isStale: true);

    /// <summary>Creates a read of a stored entity.</summary>
    /// <param name="value">The entity.</param>
    /// <returns>A read in state <see cref="NewStoreState.Found"/>.</returns>
    public static NewStoreRead<TNew> Found(TNew value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(NewStoreState.Found, value);
    }
}
