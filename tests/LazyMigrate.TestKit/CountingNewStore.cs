using System.Collections.Concurrent;

namespace LazyMigrate.TestKit;

/// <summary>
/// Counts the calls made to a new store, by method, and can hold every insert at a <see cref="PauseGate"/> (a
/// migration paused after its old read and its mapper, before its insert, with its lock held).
/// </summary>
/// <remarks>
/// It passes <see cref="ILockingNewStore{TNew}"/> through when the inner store implements it, the read-along of
/// <see cref="TryLockAndReadOldAsync"/> too: a lock that read the old store along still implements
/// <see cref="IOldStoreReadAlong{TOld}"/>, and <see cref="ReadAlongLocks"/> counts such locks. With a
/// <see cref="LockProbe"/>, its locks are taken through the probe.
/// </remarks>
/// <param name="inner">The store counted.</param>
/// <param name="insertGate">Where every insert (locked or not) waits before it reaches the store; none by
/// default.</param>
/// <param name="lockProbe">Takes the store-held locks so that a test knows when one was found held; none by
/// default.</param>
public sealed class CountingNewStore<TNew>(
    INewStore<TNew> inner,
    PauseGate? insertGate = null,
    LockProbe? lockProbe = null
) : ILockingNewStore<TNew>
    where TNew : class
{
    private readonly ConcurrentDictionary<string, int> _oldReadsAlong = new(StringComparer.Ordinal);
    private int _finds;
    private int _findManys;
    private int _insertManys;
    private int _inserted;
    private int _locks;
    private int _readAlongLocks;

    public int FindCalls => Volatile.Read(ref _finds);

    public int FindManyCalls => Volatile.Read(ref _findManys);

    public int InsertManyCalls => Volatile.Read(ref _insertManys);

    /// <summary>Gets the number of ids the store reported as inserted by insert-if-absent, over all calls.</summary>
    public int InsertedCount => Volatile.Read(ref _inserted);

    /// <summary>Gets the number of store-held locks granted.</summary>
    public int Locks => Volatile.Read(ref _locks);

    /// <summary>Gets the number of granted store-held locks that read the old store along (the read-along
    /// path).</summary>
    public int ReadAlongLocks => Volatile.Read(ref _readAlongLocks);

    /// <summary>Gets how many store-held locks read the old entity of <paramref name="id"/> along.</summary>
    public int OldReadsAlongFor(string id) => _oldReadsAlong.GetValueOrDefault(id);

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _finds);
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _findManys);
        return inner.FindManyAsync(ids, cancellationToken);
    }

    public async ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TNew entity,
        CancellationToken cancellationToken = default
    )
    {
        await PauseAsync(cancellationToken);
        bool inserted = await inner.InsertIfAbsentAsync(id, entity, cancellationToken);
        if (inserted)
        {
            Interlocked.Increment(ref _inserted);
        }

        return inserted;
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        await PauseAsync(cancellationToken);
        Interlocked.Increment(ref _insertManys);
        IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAsync(entities, cancellationToken);
        Interlocked.Add(ref _inserted, inserted.Count);
        return inserted;
    }

    public async ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        INewStoreLock<TNew>? held = await LockAsync(
            (locking, wait) => locking.TryLockAsync(ids, wait, cancellationToken),
            timeout
        );
        return held is null ? null : new CountingLock(this, held);
    }

    public async ValueTask<INewStoreLock<TNew>?> TryLockAndReadOldAsync<TOld>(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        IOldStore<TOld> oldStore,
        CancellationToken cancellationToken = default
    )
        where TOld : class
    {
        INewStoreLock<TNew>? held = await LockAsync(
            (locking, wait) => locking.TryLockAndReadOldAsync(ids, wait, oldStore, cancellationToken),
            timeout
        );
        if (held is not IOldStoreReadAlong<TOld> readAlong)
        {
            return held is null ? null : new CountingLock(this, held);
        }

        Interlocked.Increment(ref _readAlongLocks);
        foreach (string id in readAlong.OldEntities.Keys)
        {
            _oldReadsAlong.AddOrUpdate(id, 1, (_, reads) => reads + 1);
        }

        return new ReadAlongLock<TOld>(this, held, readAlong);
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    private Task PauseAsync(CancellationToken cancellationToken) =>
        insertGate?.PauseAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Takes a store-held lock of the inner store, through the probe if there is one, and counts it.</summary>
    private async ValueTask<INewStoreLock<TNew>?> LockAsync(
        Func<ILockingNewStore<TNew>, TimeSpan, ValueTask<INewStoreLock<TNew>?>> acquire,
        TimeSpan timeout
    )
    {
        var locking =
            inner as ILockingNewStore<TNew>
            ?? throw new NotSupportedException($"{inner.GetType().Name} cannot lock its entities.");
        INewStoreLock<TNew>? held = lockProbe is null
            ? await acquire(locking, timeout)
            : await lockProbe.AcquireAsync(wait => acquire(locking, wait), timeout);
        if (held is not null)
        {
            Interlocked.Increment(ref _locks);
        }

        return held;
    }

    private class CountingLock(CountingNewStore<TNew> owner, INewStoreLock<TNew> inner) : INewStoreLock<TNew>
    {
        public IReadOnlyDictionary<string, NewStoreRead<TNew>> Current => inner.Current;

        public CancellationToken HandleLostToken => inner.HandleLostToken;

        public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
            IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
            CancellationToken cancellationToken = default
        )
        {
            await owner.PauseAsync(cancellationToken);
            Interlocked.Increment(ref owner._insertManys);
            IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAndReleaseAsync(
                entities,
                cancellationToken
            );
            Interlocked.Add(ref owner._inserted, inserted.Count);
            return inserted;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>A counted lock that read the old store along: it still says so to the migration.</summary>
    private sealed class ReadAlongLock<TOld>(
        CountingNewStore<TNew> owner,
        INewStoreLock<TNew> inner,
        IOldStoreReadAlong<TOld> readAlong
    ) : CountingLock(owner, inner), IOldStoreReadAlong<TOld>
        where TOld : class
    {
        public IReadOnlyDictionary<string, TOld> OldEntities => readAlong.OldEntities;
    }
}
