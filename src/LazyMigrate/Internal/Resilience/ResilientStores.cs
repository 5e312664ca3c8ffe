using LazyMigrate.Outbox;
using Polly;
using Polly.Timeout;

namespace LazyMigrate.Internal;

/// <summary>
/// Every call LazyMigrate makes to a store or the lock provider, with a failure that outlives its resilience turned
/// into a <see cref="MigrationStoreException"/> naming the entity.
/// </summary>
/// <remarks>
/// <para>
/// A read through a default pipeline calls the store directly and enters the pipeline only after a transient failure
/// (<see cref="ReadAsync"/>), so resilience costs nothing until something fails. Every other call, and every call
/// through a pipeline the user configured, runs through the role's pipeline on every attempt, except the
/// insert-and-unlock of a store-held lock, which runs once (<see cref="InsertManyAndUnlockAsync"/>).
/// </para>
/// <para>
/// Writes keep the pipeline on their first attempt: its timeout cancels a call and waits for it to end, whereas the
/// bound of a direct read stops waiting for it, and a write left running could land after a later one.
/// </para>
/// </remarks>
internal sealed partial class ResilientStores<TOld, TNew>(
    string migration,
    IOldStore<TOld> oldStore,
    INewStore<TNew> newStore,
    IMigrationLockProvider? lockProvider,
    MigrationPipelines pipelines,
    IMigrationOutbox outbox
)
    where TOld : class
    where TNew : class
{
    private readonly IMigrationOutbox _outbox = outbox;
    private readonly IBatchWritingOldStore<TOld>? _batchWriter = oldStore as IBatchWritingOldStore<TOld>;
    private readonly IBatchWritingNewStore<TNew>? _newBatchWriter = newStore as IBatchWritingNewStore<TNew>;

    // The store writes intents with its changes only into the outbox the migration claims from.
    private readonly IOutboxNewStore<TNew>? _atomicStore =
        newStore is IOutboxNewStore<TNew> atomic && ReferenceEquals(atomic.Outbox, outbox) ? atomic : null;

    /// <summary>Reads one entity of the new store: the hot path.</summary>
    public ValueTask<NewStoreRead<TNew>> FindNewAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(
            Site.Of(MigrationRole.NewStore, "find", id),
            static (s, ct) => s.Store.FindAsync(s.Id, ct),
            (Store: newStore, Id: id),
            cancellationToken
        );

    // A batch of one id (the migration of every single read) uses the store's single-id calls, the plainer statements
    // a hand-written decorator sends: PostgresLazyMigrationBenchmarks measured the gain on PostgreSQL.
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyNewAsync(
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    ) =>
        ReadAsync(
            Site.Of(MigrationRole.NewStore, "find_many", ids),
            static (s, ct) =>
                s.Ids.Count == 1
                    ? OneRead(s.Ids[0], s.Store.FindAsync(s.Ids[0], ct))
                    : s.Store.FindManyAsync(s.Ids, ct),
            (Store: newStore, Ids: ids),
            cancellationToken
        );

    public ValueTask<IReadOnlyCollection<string>> InsertManyNewAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "insert_many", entities[0].Key, entities.Count),
            static (s, ct) =>
                s.Entities.Count == 1
                    ? OneInsert(
                        s.Entities[0].Key,
                        s.Store.InsertIfAbsentAsync(s.Entities[0].Key, s.Entities[0].Value, ct)
                    )
                    : s.Store.InsertManyIfAbsentAsync(s.Entities, ct),
            (Store: newStore, Entities: entities),
            cancellationToken
        );

    public ValueTask<bool> UpsertNewAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.NewStore, "upsert", id),
            static (s, ct) => Done(s.Store.UpsertAsync(s.Id, s.Entity, ct)),
            (Store: newStore, Id: id, Entity: entity),
            cancellationToken
        );

    /// <summary>Gets whether the new store writes many entities in a call (<see cref="UpsertManyNewAsync"/>).</summary>
    public bool WritesNewInBatches => _newBatchWriter is not null;

    /// <summary>Upserts several entities through a <see cref="IBatchWritingNewStore{TNew}"/>.</summary>
    public ValueTask<bool> UpsertManyNewAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "upsert_many", entities[0].Key, entities.Count),
            static (s, ct) => Done(s.Store.UpsertManyAsync(s.Entities, ct)),
            (Store: _newBatchWriter!, Entities: entities),
            cancellationToken
        );

    public ValueTask<bool> DeleteNewAsync(string id, CancellationToken cancellationToken) =>
        Run(
            Site.Of(MigrationRole.NewStore, "delete", id),
            static (s, ct) => Done(s.Store.DeleteAsync(s.Id, ct)),
            (Store: newStore, Id: id),
            cancellationToken
        );

    /// <summary>Reads one old-store record for a reverse merger; <see langword="null"/> if it is missing.</summary>
    public ValueTask<TOld?> FindOldAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(
            Site.Of(MigrationRole.OldStore, "find", id),
            static (s, ct) => s.Store.FindAsync(s.Id, ct),
            (Store: oldStore, Id: id),
            cancellationToken
        );

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyOldAsync(
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    ) =>
        ReadAsync(
            Site.Of(MigrationRole.OldStore, "find_many", ids),
            static (s, ct) =>
                s.Ids.Count == 1 ? OneOld(s.Ids[0], s.Store.FindAsync(s.Ids[0], ct)) : s.Store.FindManyAsync(s.Ids, ct),
            (Store: oldStore, Ids: ids),
            cancellationToken
        );

    /// <summary>Checks that the old store can key an entity on the id, before a write-back changes a store.</summary>
    public void ValidateOldId(string id) => oldStore.ValidateId(id);

    public ValueTask<bool> UpsertOldAsync(string id, TOld entity, CancellationToken cancellationToken) =>
        WriteOldAsync(
            Site.Of(MigrationRole.OldStore, "upsert", id),
            static (s, ct) => s.Store.UpsertAsync(s.Id, s.Entity, ct),
            (Store: oldStore, Id: id, Entity: entity),
            cancellationToken
        );

    public ValueTask<bool> DeleteOldAsync(string id, CancellationToken cancellationToken) =>
        WriteOldAsync(
            Site.Of(MigrationRole.OldStore, "delete", id),
            static (s, ct) => s.Store.DeleteAsync(s.Id, ct),
            (Store: oldStore, Id: id),
            cancellationToken
        );

    /// <summary>Gets whether the old store writes many entities in a call (<see cref="UpsertManyOldAsync"/>).</summary>
    public bool WritesOldInBatches => _batchWriter is not null;

    /// <summary>Upserts several entities through a <see cref="IBatchWritingOldStore{TOld}"/>.</summary>
    public ValueTask<bool> UpsertManyOldAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> entities,
        CancellationToken cancellationToken
    ) =>
        WriteOldAsync(
            Site.Of(MigrationRole.OldStore, "upsert_many", entities[0].Key, entities.Count),
            static (s, ct) => s.Store.UpsertManyAsync(s.Entities, ct),
            (Store: _batchWriter!, Entities: entities),
            cancellationToken
        );

    /// <summary>Deletes several entities through a <see cref="IBatchWritingOldStore{TOld}"/>.</summary>
    public ValueTask<bool> DeleteManyOldAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        WriteOldAsync(
            Site.Of(MigrationRole.OldStore, "delete_many", ids),
            static (s, ct) => s.Store.DeleteManyAsync(s.Ids, ct),
            (Store: _batchWriter!, Ids: ids),
            cancellationToken
        );

    /// <summary>
    /// Locks one id; each attempt, a retry too, waits only for what is left of <paramref name="deadline"/>, and a retry
    /// with nothing left is a timeout (<see langword="null"/>), not another try.
    /// </summary>
    public ValueTask<IMigrationLockHandle?> TryLockAsync(
        string id,
        LockDeadline deadline,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.Lock, "acquire", id),
            static (s, ct) => AcquireOne(s.Provider, s.Key, s.Attempts, ct),
            (Provider: lockProvider!, Key: MigrationLockKeys.For(migration, id), Attempts: deadline.StartAcquire()),
            cancellationToken
        );

    /// <summary>
    /// Gets whether the lock provider takes a batch's locks at once (<see cref="TryLockManyAsync"/>).
    /// </summary>
    public bool CanLockMany => lockProvider is IMigrationBatchLockProvider;

    /// <summary>
    /// Locks a batch of ids at once through a provider that can (<see cref="IMigrationBatchLockProvider"/>), bounded by
    /// <paramref name="deadline"/> as <see cref="TryLockAsync"/> is.
    /// </summary>
    public ValueTask<IMigrationLockHandle?> TryLockManyAsync(
        IReadOnlyList<string> ids,
        LockDeadline deadline,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.Lock, "acquire_many", ids),
            static (s, ct) =>
                s.Attempts.Next() is { } wait ? s.Provider.TryAcquireManyAsync(s.Keys, wait, ct) : default,
            (
                Provider: (IMigrationBatchLockProvider)lockProvider!,
                Keys: LockKeys(migration, ids),
                Attempts: deadline.StartAcquire()
            ),
            cancellationToken
        );

    /// <summary>
    /// Locks in the new store, bounded by <paramref name="deadline"/> as <see cref="TryLockAsync"/> is; a migration's
    /// lock also asks for the old store's entities (<see cref="IOldStoreReadAlong{TOld}"/>).
    /// </summary>
    public ValueTask<INewStoreLock<TNew>?> TryLockInNewStoreAsync(
        IReadOnlyList<string> ids,
        LockDeadline deadline,
        bool readOldAlong,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.Lock, "acquire_in_store", ids),
            static (s, ct) => LockInStore(s.Store, s.Ids, s.Attempts, s.OldStore, s.ReadOldAlong, ct),
            (
                Store: (ILockingNewStore<TNew>)newStore,
                Ids: ids,
                Attempts: deadline.StartAcquire(),
                OldStore: oldStore,
                ReadOldAlong: readOldAlong
            ),
            cancellationToken
        );

    /// <summary>
    /// Inserts and unlocks through a store-held lock, once: the call ends the lock's transaction, so a retry could only
    /// fail, and a timeout could cut a commit short and leave it unknown. A failure is a typed error; nothing is held.
    /// </summary>
    public ValueTask<IReadOnlyCollection<string>> InsertManyAndUnlockAsync(
        INewStoreLock<TNew> storeLock,
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken
    ) =>
        Run(
            Site.Of(MigrationRole.NewStore, "insert_many", entities[0].Key, entities.Count),
            static (s, ct) => s.Lock.InsertManyIfAbsentAndReleaseAsync(s.Entities, ct),
            (Lock: storeLock, Entities: entities),
            cancellationToken,
            ResiliencePipeline.Empty
        );

    public ValueTask<bool> ReleaseLockAsync(string id, IAsyncDisposable handle) =>
        Run(
            Site.Of(MigrationRole.Lock, "release", id),
            static (h, _) => Done(h.DisposeAsync()),
            handle,
            CancellationToken.None
        );

    private static ValueTask<IMigrationLockHandle?> AcquireOne(
        IMigrationLockProvider provider,
        string key,
        LockDeadline.Attempts attempts,
        CancellationToken cancellationToken
    ) => attempts.Next() is { } wait ? provider.TryAcquireAsync(key, wait, cancellationToken) : default;

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
        CancellationToken cancellationToken
    )
    {
        if (attempts.Next() is not { } wait)
        {
            return default;
        }

        return readOldAlong
            ? store.TryLockAndReadOldAsync(ids, wait, oldStore, cancellationToken)
            : store.TryLockAsync(ids, wait, cancellationToken);
    }

    private static async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> OneRead(
        string id,
        ValueTask<NewStoreRead<TNew>> read
    )
    {
        NewStoreRead<TNew> found = await read.ConfigureAwait(false);
        return found.State == NewStoreState.Missing
            ? new Dictionary<string, NewStoreRead<TNew>>()
            : new Dictionary<string, NewStoreRead<TNew>> { [id] = found };
    }

    private static async ValueTask<IReadOnlyDictionary<string, TOld>> OneOld(string id, ValueTask<TOld?> read) =>
        await read.ConfigureAwait(false) is { } found
            ? new Dictionary<string, TOld> { [id] = found }
            : new Dictionary<string, TOld>();

    private static async ValueTask<IReadOnlyCollection<string>> OneInsert(string id, ValueTask<bool> insert) =>
        await insert.ConfigureAwait(false) ? [id] : [];

    private static async ValueTask<bool> Done(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A write-back to the old store through its pipeline, with the store's refusal of it as superseded (<see
    /// cref="WriteBackSupersededException"/>) handed back through the pipeline as a value: that is the store's answer,
    /// not a failure, so no strategy of a pipeline the user configured (a retry of every exception, a circuit breaker)
    /// sends it again or counts it as a failure (<see cref="WriteBackRefusal"/>).
    /// </summary>
    private ValueTask<bool> WriteOldAsync<TState>(
        Site site,
        Func<TState, CancellationToken, ValueTask> write,
        TState state,
        CancellationToken cancellationToken
    ) =>
        Run(
                site,
                static (s, ct) => WriteBackRefusal.AsValueAsync(s.Write, s.State, ct),
                (Write: write, State: state),
                cancellationToken
            )
            .ThrowIfRefused();

    /// <summary>
    /// Observes the failure of a call no longer awaited whenever it comes, so that it never goes unobserved.
    /// </summary>
    private static void ObserveLater(Task attempt) =>
        _ = attempt.ContinueWith(
            static t => t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );

    /// <summary>
    /// Passes on LazyMigrate's own typed errors and the caller's cancellation; anything else, including a store's own
    /// cancellation (an HTTP client timeout, say), becomes a typed store error.
    /// </summary>
    private static bool IsPassedThrough(Exception exception, CancellationToken cancellationToken) =>
        exception is LazyMigrationException
        || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    /// <summary>
    /// A read: through a default pipeline, a direct first attempt (see <see cref="FirstAttemptAsync"/>); through a
    /// configured one, <see cref="Run"/>.
    /// </summary>
    private ValueTask<TResult> ReadAsync<TState, TResult>(
        Site site,
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken
    )
    {
        if (!pipelines.CallsStoreDirectlyFirst(site.Role))
        {
            return Run(site, call, state, cancellationToken);
        }

        ValueTask<TResult> first;
        try
        {
            first = call(state, cancellationToken);
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            first = ValueTask.FromException<TResult>(exception);
        }

        // The hot path: a read that completed at once returns without an await, a state machine or an allocation.
        return first.IsCompletedSuccessfully ? first : FirstAttemptAsync(first, site, call, state, cancellationToken);
    }

    /// <summary>
    /// Awaits a direct first attempt that did not complete at once, for at most
    /// <see cref="MigrationPipelines.AttemptTimeout"/>, and after a transient failure runs the later attempts through
    /// the default pipeline (<see cref="Retry{TState, TResult}"/>).
    /// </summary>
    /// <remarks>
    /// The bound stops waiting for the call rather than cancelling it (the call has the caller's token, and no source
    /// of its own: creating one for every read would cost what the pipeline costs). So it holds even for a driver that
    /// ignores its token while a server is frozen, while the call itself runs on until its driver gives up (Npgsql's
    /// <c>Command Timeout</c>, 30 s by default); a read has no effect to undo, so nothing waits for it.
    /// </remarks>
    private async ValueTask<TResult> FirstAttemptAsync<TState, TResult>(
        ValueTask<TResult> first,
        Site site,
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken
    )
    {
        try
        {
            try
            {
                if (first.IsCompleted)
                {
                    return await first.ConfigureAwait(false);
                }

                Task<TResult> attempt = first.AsTask();
                try
                {
                    return await attempt
                        .WaitAsync(pipelines.AttemptTimeout, pipelines.TimeProvider, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (TimeoutException) when (!attempt.IsCompleted)
                {
                    ObserveLater(attempt);
                    TimeSpan timeout = pipelines.AttemptTimeout;
                    throw new TimeoutRejectedException(
                        $"The first attempt did not complete within AttemptTimeout ({timeout}).",
                        timeout
                    );
                }
                catch (OperationCanceledException) when (!attempt.IsCompleted)
                {
                    ObserveLater(attempt);
                    throw;
                }
            }
            catch (Exception exception) when (pipelines.RetriesAfter(exception, cancellationToken))
            {
                var retry = new Retry<TState, TResult>(call, state, exception);
                ResiliencePipeline pipeline = pipelines.For(site.Role);
                return await pipeline
                    .ExecuteAsync(Retry<TState, TResult>.AttemptAsync, retry, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            throw site.Failure(migration, exception);
        }
    }

    /// <summary>
    /// A call through its pipeline on every attempt; a failure thrown before the call returns is already typed.
    /// </summary>
    private ValueTask<TResult> Run<TState, TResult>(
        Site site,
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken,
        ResiliencePipeline? pipelineOverride = null
    )
    {
        ResiliencePipeline pipeline = pipelineOverride ?? pipelines.For(site.Role);
        ValueTask<TResult> pending;
        try
        {
            // An empty pipeline adds nothing but its own cost: call the store straight away.
            pending = ReferenceEquals(pipeline, ResiliencePipeline.Empty)
                ? call(state, cancellationToken)
                : pipeline.ExecuteAsync(call, state, cancellationToken);
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            throw site.Failure(migration, exception);
        }

        // A call that completed at once returns without an await, a state machine or an allocation.
        return pending.IsCompletedSuccessfully ? pending : ObserveAsync(pending, site, cancellationToken);
    }

    /// <summary>Awaits a call that did not complete at once and names its failure.</summary>
    private async ValueTask<TResult> ObserveAsync<TResult>(
        ValueTask<TResult> pending,
        Site site,
        CancellationToken cancellationToken
    )
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception exception) when (!IsPassedThrough(exception, cancellationToken))
        {
            throw site.Failure(migration, exception);
        }
    }

    /// <summary>
    /// The attempts after a failed direct first one, through the default pipeline: its first execution hands back that
    /// failure instead of calling the store, so the retry strategy counts it as attempt one, waits its backoff, and
    /// then makes the remaining <c>MaxRetryAttempts</c> attempts, each under the per-attempt timeout.
    /// </summary>
    private sealed class Retry<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        Exception firstFailure
    )
    {
        private Exception? _firstFailure = firstFailure;

        // Polly runs the attempts of one execution one after another, so the field needs no synchronisation.
        public static ValueTask<TResult> AttemptAsync(Retry<TState, TResult> retry, CancellationToken cancellationToken)
        {
            Exception? failure = retry._firstFailure;
            if (failure is not null)
            {
                retry._firstFailure = null;
                return ValueTask.FromException<TResult>(failure);
            }

            return retry.Call(retry.State, cancellationToken);
        }

        private Func<TState, CancellationToken, ValueTask<TResult>> Call { get; } = call;

        private TState State { get; } = state;
    }

    /// <summary>
    /// What a call concerns, as its failure names it: the role, the operation, the first id, and how many ids there
    /// were.
    /// </summary>
    private readonly record struct Site(MigrationRole Role, string Operation, string FirstId, int Count)
    {
        public static Site Of(MigrationRole role, string operation, string id, int count = 1) =>
            new(role, operation, id, count);

        public static Site Of(MigrationRole role, string operation, IReadOnlyList<string> ids) =>
            new(role, operation, ids[0], ids.Count);

        public MigrationStoreException Failure(string migration, Exception exception) =>
            new(migration, FirstId, Role, Operation, exception, Count);
    }
}
