namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>An entity read with its key, which a shadow key property keeps out of the entity itself.</summary>
internal sealed class Keyed<TEntity, TKey>
{
    public TKey Key { get; set; } = default!;

    public TEntity Entity { get; set; } = default!;

    public void Deconstruct(out TKey key, out TEntity entity)
    {
        key = Key;
        entity = Entity;
    }
}
