using Polly;

namespace LazyMigrate;

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
        ValueTask<object?> pending = Run(MigrationRole.NewStore, "find", id, static (s, ct) => Encode(s.Store.FindAsync(s.Id, ct)), (Store: newStore, Id: id), cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<NewStoreRead<TNew>>(Decode(pending.Result)) : DecodeAsync(pending);
    }

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyNewAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "find_many", ids[0], static (s, ct) => s.Store.FindManyAsync(s.Ids, ct), (Store: newStore, Ids: ids), cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyNewAsync(IReadOnlyList<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "insert_many", entities[0].Key, static (s, ct) => s.Store.InsertManyIfAbsentAsync(s.Entities, ct), (Store: newStore, Entities: entities), cancellationToken);

    public ValueTask<bool> UpsertNewAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "upsert", id, static (s, ct) => Done(s.Store.UpsertAsync(s.Id, s.Entity, ct)), (Store: newStore, Id: id, Entity: entity), cancellationToken);

    public ValueTask<bool> DeleteNewAsync(string id, CancellationToken cancellationToken) =>
        Run(MigrationRole.NewStore, "delete", id, static (s, ct) => Done(s.Store.DeleteAsync(s.Id, ct)), (Store: newStore, Id: id), cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyOldAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "find_many", ids[0], static (s, ct) => s.Store.FindManyAsync(s.Ids, ct), (Store: oldStore, Ids: ids), cancellationToken);

    public ValueTask<bool> UpsertOldAsync(string id, TOld entity, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "upsert", id, static (s, ct) => Done(s.Store.UpsertAsync(s.Id, s.Entity, ct)), (Store: oldStore, Id: id, Entity: entity), cancellationToken);

    public ValueTask<bool> DeleteOldAsync(string id, CancellationToken cancellationToken) =>
        Run(MigrationRole.OldStore, "delete", id, static (s, ct) => Done(s.Store.DeleteAsync(s.Id, ct)), (Store: oldStore, Id: id), cancellationToken);

    public ValueTask<IMigrationLockHandle?> TryLockAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        Run(MigrationRole.Lock, "acquire", id, static (s, ct) => s.Provider.TryAcquireAsync(s.Key, s.Timeout, ct), (Provider: lockProvider!, Key: MigrationLockKeys.For(migration, id), Timeout: timeout), cancellationToken);

    public ValueTask<bool> ReleaseLockAsync(string id, IMigrationLockHandle handle) =>
        Run(MigrationRole.Lock, "release", id, static (h, _) => Done(h.DisposeAsync()), handle, CancellationToken.None);

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

    private static async ValueTask<NewStoreRead<TNew>> DecodeAsync(ValueTask<object?> pending) => Decode(await pending.ConfigureAwait(false));

    private static async ValueTask<bool> Done(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        return true;
    }

    private static bool IsPassedThrough(Exception exception) => exception is OperationCanceledException or LazyMigrationException;

    private ValueTask<TResult> Run<TState, TResult>(MigrationRole role, string operation, string id, Func<TState, CancellationToken, ValueTask<TResult>> call, TState state, CancellationToken cancellationToken)
    {
        ValueTask<TResult> pending;
        try
        {
            pending = pipelines.For(role).ExecuteAsync(call, state, cancellationToken);
        }
        catch (Exception exception) when (!IsPassedThrough(exception))
        {
            throw new MigrationStoreException(migration, id, role, operation, exception);
        }

        // The hot path: a call that completed at once returns without an await, a state machine or an allocation.
        return pending.IsCompletedSuccessfully ? pending : ObserveAsync(pending, role, operation, id);
    }

    private async ValueTask<TResult> ObserveAsync<TResult>(ValueTask<TResult> pending, MigrationRole role, string operation, string id)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception exception) when (!IsPassedThrough(exception))
        {
            throw new MigrationStoreException(migration, id, role, operation, exception);
        }
    }
}
