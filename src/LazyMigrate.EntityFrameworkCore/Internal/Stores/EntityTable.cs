using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage;

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
        Expression<Func<TEntity, TKey>> key,
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

        Contexts = contexts;
        _set = set;
        Key = new EntityKey<TEntity, TKey>(key);
        Ids = IdConversion<TKey>.From(options);
        EntityTypeName = options.EntityTypeName ?? typeof(TEntity).Name;
        ScanPageSize = options.ScanPageSize;
        MaxWriteAttempts = options.MaxWriteAttempts;

        using TContext context = contexts.CreateDbContext();
        problems = StoreModel.Problems(context, set, Key.PropertyName, needsEntries);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }
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

    public string IdOf(TEntity entity) => Ids.ToId(Key.Read(entity));

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
            TEntity entity in await Query(context)
                .Where(Key.In(keys))
                .ToListAsync(cancellationToken)
                .ConfigureAwait(false)
        )
        {
            found[IdOf(entity)] = entity;
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
    /// Tracks an entity to insert or to replace whole, under the key of its id: the id is what the store is told.
    /// </summary>
    public void Track(TContext context, TKey key, TEntity entity, EntityState state)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!EqualityComparer<TKey>.Default.Equals(Key.Read(entity), key))
        {
            // Through EF Core's own setter, so keys with init-only or field-backed properties are written too.
            EntityEntry<TEntity> detached = context.Entry(entity);
            detached.Property<TKey>(Key.PropertyName).CurrentValue = key;
        }

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
    /// Runs <paramref name="work"/> in one transaction on a fresh context, through the context's execution strategy (so
    /// a retrying strategy, such as <c>EnableRetryOnFailure</c>, replays the whole transaction). The transaction is
    /// committed when the work completes and rolled back when it throws.
    /// </summary>
    public async Task InTransactionAsync<TState>(
        TState state,
        Func<TContext, TState, CancellationToken, Task> work,
        CancellationToken cancellationToken
    )
    {
        TContext context = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            IExecutionStrategy strategy = context.Database.CreateExecutionStrategy();
            await strategy
                .ExecuteAsync(
                    (Context: context, State: state, Work: work),
                    static async (_, s, ct) =>
                    {
                        s.Context.ChangeTracker.Clear();

                        // A failed save is never carried on from: the whole transaction rolls back, so EF Core's
                        // savepoint before each save would only cost a round trip.
                        s.Context.Database.AutoSavepointsEnabled = false;
                        IDbContextTransaction transaction = await s
                            .Context.Database.BeginTransactionAsync(ct)
                            .ConfigureAwait(false);
                        await using (transaction.ConfigureAwait(false))
                        {
                            await s.Work(s.Context, s.State, ct).ConfigureAwait(false);
                            await transaction.CommitAsync(ct).ConfigureAwait(false);
                            return true;
                        }
                    },
                    verifySucceeded: null,
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
    }
}
