namespace LazyMigrate;

/// <summary>What the new store holds for one id: an entity, a tombstone, or nothing.</summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public readonly struct NewStoreRead<TNew>
    where TNew : class
{
    private NewStoreRead(NewStoreState state, TNew? value)
    {
        State = state;
        Value = value;
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

    /// <summary>Creates a read of a stored entity.</summary>
    /// <param name="value">The entity.</param>
    /// <returns>A read in state <see cref="NewStoreState.Found"/>.</returns>
    public static NewStoreRead<TNew> Found(TNew value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(NewStoreState.Found, value);
    }
}
