using Polly;

namespace LazyMigrate.Internal;

/// <summary>
/// Every call LazyMigrate makes to a store or the lock provider: through the role's resilience pipeline, with a
/// failure that outlives the pipeline turned into a <see cref="MigrationStoreException"/> naming the entity.
/// </summary>
internal sealed class ResilientStores<TOld, TNew>(string migration, IOldStore<TOld> oldStore, INewStore<TNew> newStore, IMigrationLockProvider? lockProvider, MigrationPipelines pipelines)
    where TOld : class
    where TNew : class
{
    /// <summary>Stands for a tombstone while a read crosses the pipeline (see <see cref="FindNewAsync"/>).</summary>
    private static readonly object TombstoneMarker = new();

    /// <summary>Reads one entity of the new store: the hot path.</summary>
    /// <remarks>
    /// The read crosses the pipeline as a reference (the entity, a tombstone marker, or null when missing): a
    /// non-generic Polly pipeline boxes a value-type result for its reactive strategies, which would cost every read
    /// an allocation.
    /// </remarks>
    public ValueTask<NewStoreRead<TNew>> FindNewAsync(string id, CancellationToken cancellationToken)
    {
        var batch = Batch.Of(id);
        if (ReferenceEquals(pipelines.NewStore, ResiliencePipeline.Empty))
        {
            // Nothing crosses a pipeline, so nothing to encode: a store that answers later costs one await, not three.
            return Run(MigrationRole.NewStore, "find", batch, static (s, ct) => s.Store.FindAsync(s.Id, ct), (Store: newStore, Id: id), cancellationToken, ResiliencePipeline.Empty);
        }

        ValueTask<object?> pending = Start(MigrationRole.NewStore, "find", batch, static (s, ct) => Encode(s.Store.FindAsync(s.Id, ct)), (Store: newStore, Id: id), cancellationToken);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<NewStoreRead<TNew>>(Decode(pending.Result))
            : ObserveAsync(pending, static read => Decode(read), MigrationRole.NewStore, "find", batch, cancellationToken);
    }

    // A batch of one id (the migration of every single read) uses the store's single-id calls: on a database they are
    // the plainer statements, the ones a hand-written decorator sends.
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyNewAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "find_many", Batch.Of(ids), static (s, ct) => s.Ids.Count == 1 ? OneRead(s.Ids[0], s.Store.FindAsync(s.Ids[0], ct)) : s.Store.FindManyAsync(s.Ids, ct), (Store: newStore, Ids: ids), cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyNewAsync(IReadOnlyList<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "insert_many", Batch.Of(entities[0].Key, entities.Count), static (s, ct) => s.Entities.Count == 1 ? OneInsert(s.Entities[0].Key, s.Store.InsertIfAbsentAsync(s.Entities[0].Key, s.Entities[0].Value, ct)) : s.Store.InsertManyIfAbsentAsync(s.Entities, ct), (Store: newStore, Entities: entities), cancellationToken);

    public ValueTask<bool> UpsertNewAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "upsert", Batch.Of(id), static (s, ct) => Done(s.Store.UpsertAsync(s.Id, s.Entity, ct)), (Store: newStore, Id: id, Entity: entity), cancellationToken);

    public ValueTask<bool> DeleteNewAsync(string id, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "delete", Batch.Of(id), static (s, ct) => Done(s.Store.DeleteAsync(s.Id, ct)), (Store: newStore, Id: id), cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyOldAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "find_many", Batch.Of(ids), static (s, ct) => s.Ids.Count == 1 ? OneOld(s.Ids[0], s.Store.FindAsync(s.Ids[0], ct)) : s.Store.FindManyAsync(s.Ids, ct), (Store: oldStore, Ids: ids), cancellationToken);

    public ValueTask<bool> UpsertOldAsync(string id, TOld entity, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "upsert", Batch.Of(id), static (s, ct) => Done(s.Store.UpsertAsync(s.Id, s.Entity, ct)), (Store: oldStore, Id: id, Entity: entity), cancellationToken);

    public ValueTask<bool> DeleteOldAsync(string id, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "delete", Batch.Of(id), static (s, ct) => Done(s.Store.DeleteAsync(s.Id, ct)), (Store: oldStore, Id: id), cancellationToken);

    /// <summary>
    /// Locks one id; each attempt, a retry too, waits only for what is left of <paramref name="deadline"/>, and a retry
    /// with nothing left is a timeout (<see langword="null"/>), not another try.
    /// </summary>
    public ValueTask<IMigrationLockHandle?> TryLockAsync(string id, LockDeadline deadline, CancellationToken cancellationToken) =>
        Run(MigrationRole.Lock, "acquire", Batch.Of(id), static (s, ct) => AcquireOne(s.Provider, s.Key, s.Attempts, ct),
            (Provider: lockProvider!, Key: MigrationLockKeys.For(migration, id), Attempts: deadline.StartAcquire()), cancellationToken);

    /// <summary>Gets whether the lock provider takes a batch's locks at once (<see cref="TryLockManyAsync"/>).</summary>
    public bool CanLockMany => lockProvider is IMigrationBatchLockProvider;

    /// <summary>
    /// Locks a batch of ids at once through a provider that can (<see cref="IMigrationBatchLockProvider"/>), bounded by
    /// <paramref name="deadline"/> as <see cref="TryLockAsync"/> is.
    /// </summary>
    public ValueTask<IMigrationLockHandle?> TryLockManyAsync(
        IReadOnlyList<string> ids, LockDeadline deadline, CancellationToken cancellationToken) =>
        Run(
            MigrationRole.Lock,
            "acquire_many",
            Batch.Of(ids),
            static (s, ct) => s.Attempts.Next() is { } wait ? s.Provider.TryAcquireManyAsync(s.Keys, wait, ct) : default,
            (Provider: (IMigrationBatchLockProvider)lockProvider!, Keys: LockKeys(migration, ids), Attempts: deadline.StartAcquire()),
            cancellationToken);

    /// <summary>
    /// Locks in the new store, bounded by <paramref name="deadline"/> as <see cref="TryLockAsync"/> is; a migration's lock
    /// also asks for the old store's entities (<see cref="IOldStoreReadAlong{TOld}"/>).
    /// </summary>
    public ValueTask<INewStoreLock<TNew>?> TryLockInNewStoreAsync(
        IReadOnlyList<string> ids, LockDeadline deadline, bool readOldAlong, CancellationToken cancellationToken) =>
        Run(
            MigrationRole.Lock,
            "acquire_in_store",
            Batch.Of(ids),
            static (s, ct) => LockInStore(s.Store, s.Ids, s.Attempts, s.OldStore, s.ReadOldAlong, ct),
            (Store: (ILockingNewStore<TNew>)newStore, Ids: ids, Attempts: deadline.StartAcquire(), OldStore: oldStore,
                ReadOldAlong: readOldAlong),
            cancellationToken);

    /// <summary>
    /// Inserts and unlocks through a store-held lock, once: the call ends the lock's transaction, so a retry could only
    /// fail, and a timeout could cut a commit short and leave it unknown. A failure is a typed error; nothing is held.
    /// </summary>
    public ValueTask<IReadOnlyCollection<string>> InsertManyAndUnlockAsync(INewStoreLock<TNew> storeLock, IReadOnlyList<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "insert_many", Batch.Of(entities[0].Key, entities.Count), static (s, ct) => s.Lock.InsertManyIfAbsentAndReleaseAsync(s.Entities, ct), (Lock: storeLock, Entities: entities), cancellationToken, ResiliencePipeline.Empty);

    public ValueTask<bool> ReleaseLockAsync(string id, IAsyncDisposable handle) =>
        Run(MigrationRole.Lock, "release", Batch.Of(id), static (h, _) => Done(h.DisposeAsync()), handle, CancellationToken.None);

    private static ValueTask<IMigrationLockHandle?> AcquireOne(
        IMigrationLockProvider provider, string key, LockDeadline.Attempts attempts, CancellationToken cancellationToken) =>
        attempts.Next() is { } wait ? provider.TryAcquireAsync(key, wait, cancellationToken) : default;

    private static string[] LockKeys(string migration, IReadOnlyList<string> ids)
    {
        var keys = new string[ids.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = MigrationLockKeys.For(migration, ids[i]);
        }

        return keys;
    }

    private static ValueTask<INewStoreLock<TNew>?> LockInStore(
        ILockingNewStore<TNew> store,
        IReadOnlyList<string> ids,
        LockDeadline.Attempts attempts,
        IOldStore<TOld> oldStore,
        bool readOldAlong,
        CancellationToken cancellationToken)
    {
        if (attempts.Next() is not { } wait)
        {
            return default;
        }

        return readOldAlong
            ? store.TryLockAndReadOldAsync(ids, wait, oldStore, cancellationToken)
            : store.TryLockAsync(ids, wait, cancellationToken);
    }

    private static ValueTask<object?> Encode(ValueTask<NewStoreRead<TNew>> read)
    {
        return read.IsCompletedSuccessfully ? new ValueTask<object?>(Encode(read.Result)) : EncodeAsync(read);

        static async ValueTask<object?> EncodeAsync(ValueTask<NewStoreRead<TNew>> read) => Encode(await read.ConfigureAwait(false));
    }

    private static object? Encode(NewStoreRead<TNew> read) => read.State switch
    {
        NewStoreState.Found => read.Value,
        NewStoreState.Deleted => TombstoneMarker,
        _ => null,
    };

    private static NewStoreRead<TNew> Decode(object? read) => read switch
    {
        null => NewStoreRead<TNew>.Missing,
        _ when ReferenceEquals(read, TombstoneMarker) => NewStoreRead<TNew>.Deleted,
        _ => NewStoreRead<TNew>.Found((TNew)read),
    };

    private static async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> OneRead(string id, ValueTask<NewStoreRead<TNew>> read)
    {
        NewStoreRead<TNew> found = await read.ConfigureAwait(false);
        return found.State == NewStoreState.Missing ? new Dictionary<string, NewStoreRead<TNew>>() : new Dictionary<string, NewStoreRead<TNew>> { [id] = found };
    }

    private static async ValueTask<IReadOnlyDictionary<string, TOld>> OneOld(string id, ValueTask<TOld?> read) =>
        await read.ConfigureAwait(false) is { } found ? new Dictionary<string, TOld> { [id] = found } : new Dictionary<string, TOld>();

    private static async ValueTask<IReadOnlyCollection<string>> OneInsert(string id, ValueTask<bool> insert) =>
        await insert.ConfigureAwait(false) ? [id] : [];

    private static async ValueTask<bool> Done(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Passes on LazyMigrate's own typed errors and the caller's cancellation; anything else, including a store's own
    /// cancellation (an HTTP client timeout, say), becomes a typed store error.
    /// </summary>
    private static bool IsPassedThrough(Exception exception, CancellationToken cancellationToken) =>
        exception is LazyMigrationException || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ValueTask<TResult> Run<TState, TResult>(MigrationRole role, string operation, Batch batch, Func<TState, CancellationToken, ValueTask<TResult>> call, TState state, CancellationToken cancellationToken, ResiliencePipeline? pipelineOverride = null)
    {
        ValueTask<TResult> pending = Start(role, operation, batch, call, state, cancellationToken, pipelineOverride);

        // The hot path: a call that completed at once returns without an await, a state machine or an allocation.
        return pending.IsCompletedSuccessfully ? pending : ObserveAsync(pending, static result => result, role, operation, batch, cancellationToken);
    }

    /// <summary>Starts a call through its pipeline; a failure thrown before the call returns is already a typed error.</summary>
    private ValueTask<TResult> Start<TState, TResult>(MigrationRole role, string operation, Batch batch, Func<TState, CancellationToken, ValueTask<TResult>> call, TState state, CancellationToken cancellationToken, ResiliencePipeline? pipelineOverride = null)
    {
        ResiliencePipeline pipeline = pipelineOverride ?? pipelines.For(role);
        try
        {
            // An empty pipeline adds nothing but its own cost: call the store straight away.
            return ReferenceEquals(pipeline, ResiliencePipeline.Empty) ? call(state, cancellationToken) : pipeline.ExecuteAsync(call, state, cancellationToken);
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            throw batch.Failure(migration, role, operation, exception);
        }
    }

    /// <summary>Awaits a call that did not complete at once and converts its result, in one state machine.</summary>
    private async ValueTask<TOut> ObserveAsync<TResult, TOut>(ValueTask<TResult> pending, Func<TResult, TOut> convert, MigrationRole role, string operation, Batch batch, CancellationToken cancellationToken)
    {
        try
        {
            return convert(await pending.ConfigureAwait(false));
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            throw batch.Failure(migration, role, operation, exception);
        }
    }

    /// <summary>The ids a call concerns, as its failure names them: the first id, and how many there were.</summary>
    private readonly record struct Batch(string FirstId, int Count)
    {
        public static Batch Of(string id, int count = 1) => new(id, count);

        public static Batch Of(IReadOnlyList<string> ids) => new(ids[0], ids.Count);

        public MigrationStoreException Failure(string migration, MigrationRole role, string operation, Exception exception) =>
            new(migration, FirstId, role, operation, exception, Count);
    }
}
