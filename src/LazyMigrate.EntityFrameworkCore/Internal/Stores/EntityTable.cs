using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// A user's entity set as both stores see it: ids to keys and back, the queries by key, and the write of one entity.
/// Every call gets a context from the factory and disposes it: the stores are thread-safe singletons.
/// </summary>
internal sealed class EntityTable<TContext, TEntity, TKey>
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    private readonly Func<TContext, DbSet<TEntity>> _set;

    public EntityTable(
        IDbContextFactory<TContext> contexts,
        Func<TContext, DbSet<TEntity>> set,
        Func<string?> keyProperty,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        bool needsEntries
    )
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(set);
        options ??= new EntityFrameworkCoreStoreOptions<TKey>();
        List<string> problems = StoreOptionsChecks.Problems(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        Contexts = new OwnContextFactory<TContext>(contexts);
        _set = set;
        Ids = IdConversion<TKey>.From(options);
        EntityTypeName = options.EntityTypeName ?? typeof(TEntity).Name;
        ScanPageSize = options.ScanPageSize;
        MaxWriteAttempts = options.MaxWriteAttempts;

        using TContext context = contexts.CreateDbContext();
        problems = StoreModel.Problems<TContext, TEntity, TKey>(
            context,
            set,
            keyProperty(),
            needsEntries,
            out string? keyName
        );
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }

        Key = new EntityKey<TEntity, TKey>(keyName!);
    }

    public IDbContextFactory<TContext> Contexts { get; }

    public EntityKey<TEntity, TKey> Key { get; }

    public IdConversion<TKey> Ids { get; }

    public string EntityTypeName { get; }

    public int ScanPageSize { get; }

    public int MaxWriteAttempts { get; }

    /// <summary>
    /// Converts distinct ids to keys, failing on the first invalid one before anything is read or written.
    /// </summary>
    public TKey[] ToKeys(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var keys = new TKey[ids.Count];
        int i = 0;
        foreach (string id in ids)
        {
            keys[i++] = Ids.ToKey(id);
        }

        return keys;
    }

    /// <summary>The entity set, untracked: the stores only read through it.</summary>
    public IQueryable<TEntity> Query(TContext context) => _set(context).AsNoTracking();

    public Task<TEntity?> FindAsync(TContext context, TKey key, CancellationToken cancellationToken) =>
        Query(context).Where(Key.EqualTo(key)).FirstOrDefaultAsync(cancellationToken);

    public async Task<Dictionary<string, TEntity>> FindManyAsync(
        TContext context,
        IReadOnlyCollection<TKey> keys,
        CancellationToken cancellationToken
    )
    {
        var found = new Dictionary<string, TEntity>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return found;
        }

        foreach (
            Keyed<TEntity, TKey> read in await Query(context)
                .Where(Key.In(keys))
                .Select(Key.WithKey)
                .ToListAsync(cancellationToken)
                .ConfigureAwait(false)
        )
        {
            found[Ids.ToId(read.Key)] = read.Entity;
        }

        return found;
    }

    /// <summary>The ids among <paramref name="keys"/> the table holds, reading keys only.</summary>
    public async Task<List<string>> FindIdsAsync(
        TContext context,
        IReadOnlyCollection<TKey> keys,
        CancellationToken cancellationToken
    )
    {
        if (keys.Count == 0)
        {
            return [];
        }

        List<TKey> found = await Query(context)
            .Where(Key.In(keys))
            .Select(Key.Selector)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return found.ConvertAll(Ids.ToId);
    }

    /// <summary>
    /// Inserts or replaces one entity in <paramref name="context"/> (inside the caller's transaction, if any).
    /// </summary>
    /// <returns><see langword="true"/> when it inserted, <see langword="false"/> when it replaced.</returns>
    public async Task<bool> WriteAsync(TContext context, TKey key, TEntity entity, CancellationToken cancellationToken)
    {
        bool exists = await Query(context).AnyAsync(Key.EqualTo(key), cancellationToken).ConfigureAwait(false);
        Track(context, key, entity, exists ? EntityState.Modified : EntityState.Added);
        await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return !exists;
    }

    /// <summary>
    /// Writes one entity back onto the row of its key in <paramref name="context"/>, inside the caller's transaction:
    /// the row is loaded, tracked, and given the entity's values, so that the update sets only the columns whose values
    /// changed and leaves alone the model's shadow properties and the columns it does not map. A missing row is
    /// inserted (where EF Core leaves out the properties the database defaults).
    /// </summary>
    /// <returns><see langword="true"/> when it inserted, <see langword="false"/> when it updated.</returns>
    public async Task<bool> WriteBackAsync(
        TContext context,
        TKey key,
        TEntity entity,
        CancellationToken cancellationToken
    )
    {
        TEntity? row = await _set(context)
            .Where(Key.EqualTo(key))
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
        WriteBackOnto(context, key, entity, row);
        await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return row is null;
    }

    /// <summary>
    /// Loads, tracked, the rows of <paramref name="keys"/> that exist, for <see cref="WriteBackOnto"/>.
    /// </summary>
    public async Task<Dictionary<TKey, TEntity>> TrackRowsAsync(
        TContext context,
        IReadOnlyCollection<TKey> keys,
        CancellationToken cancellationToken
    )
    {
        List<Keyed<TEntity, TKey>> rows = await _set(context)
            .Where(Key.In(keys))
            .Select(Key.WithKey)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return rows.ToDictionary(r => r.Key, r => r.Entity);
    }

    /// <summary>
    /// Gives the tracked <paramref name="row"/> of <paramref name="key"/> the entity's values, so that a save updates
    /// only the columns whose values changed, or tracks the entity to insert when there is no row.
    /// </summary>
    public void WriteBackOnto(TContext context, TKey key, TEntity entity, TEntity? row)
    {
        if (row is null)
        {
            Track(context, key, entity, EntityState.Added);
        }
        else
        {
            // The entity's own key may be unset (a reverse mapper need not know it): the id is the key.
            SetKey(context, key, entity);
            context.Entry(row).CurrentValues.SetValues(entity);
        }
    }

    /// <summary>
    /// Tracks an entity to insert or to replace whole, under the key of its id: the id is what the store is told.
    /// </summary>
    public void Track(TContext context, TKey key, TEntity entity, EntityState state)
    {
        SetKey(context, key, entity);
        if (state == EntityState.Added)
        {
            _set(context).Add(entity);
        }
        else
        {
            _set(context).Update(entity);
        }
    }

    /// <summary>
    /// Sets the key of an entity not tracked yet, through EF Core: a key property with an init-only or field-backed
    /// setter is written too, and a shadow key is kept by the entry the context then tracks.
    /// </summary>
    public void SetKey(TContext context, TKey key, TEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        PropertyEntry<TEntity, TKey> property = context.Entry(entity).Property<TKey>(Key.PropertyName);
        if (!EqualityComparer<TKey>.Default.Equals(property.CurrentValue, key))
        {
            property.CurrentValue = key;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on a fresh context (<see cref="Transactions.RunAsync"/>).
    /// </summary>
    public Task InTransactionAsync<TState>(
        TState state,
        Func<TContext, TState, CancellationToken, Task> work,
        CancellationToken cancellationToken
    ) =>
        InTransactionAsync(
            (State: state, Work: work),
            static async (context, s, ct) =>
            {
                await s.Work(context, s.State, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken
        );

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on a fresh context and returns its result (<see
    /// cref="Transactions.RunAsync"/>).
    /// </summary>
    public Task<TResult> InTransactionAsync<TState, TResult>(
        TState state,
        Func<TContext, TState, CancellationToken, Task<TResult>> work,
        CancellationToken cancellationToken
    ) => Transactions.RunAsync(Contexts, state, work, isolationLevel: null, cancellationToken);
}
