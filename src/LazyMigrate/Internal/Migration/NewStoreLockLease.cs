using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Locks the new store takes itself (<see cref="ILockingNewStore{TNew}"/>): locked and re-read in one call, then
/// inserted and unlocked in another.
/// </summary>
internal sealed class NewStoreLockLease<TOld, TNew> : MigrationLease<TOld, TNew>
    where TOld : class
    where TNew : class
{
    private readonly INewStoreLock<TNew> _storeLock;
    private readonly string _firstId;
    private bool _released;

    private NewStoreLockLease(MigrationContext<TOld, TNew> context, INewStoreLock<TNew> storeLock, string firstId)
        : base(context)
    {
        _storeLock = storeLock;
        _firstId = firstId;
    }

    public override IReadOnlyDictionary<string, NewStoreRead<TNew>>? KnownState => _storeLock.Current;

    public override IReadOnlyDictionary<string, TOld>? OldEntities =>
        (_storeLock as IOldStoreReadAlong<TOld>)?.OldEntities;

    public override CancellationToken LockLostToken => _storeLock.HandleLostToken;

    public static new async ValueTask<NewStoreLockLease<TOld, TNew>> AcquireAsync(
        MigrationContext<TOld, TNew> context,
        IReadOnlyList<string> ids,
        bool readOldAlong,
        CancellationToken cancellationToken
    )
    {
        long started = context.TimeProvider.GetTimestamp();
        var deadline = LockDeadline.Start(context.TimeProvider, context.Options.LockTimeout);
        INewStoreLock<TNew>? storeLock = await context
            .Stores.TryLockInNewStoreAsync(ids, deadline, readOldAlong, cancellationToken)
            .ConfigureAwait(false);
        context.Metrics.LockWait(context.Name, storeLock is not null, context.TimeProvider.GetElapsedTime(started));
        return storeLock is null
            ? throw TimedOut(context, ids[0])
            : new NewStoreLockLease<TOld, TNew>(context, storeLock, ids[0]);
    }

    public override async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents
    )
    {
        if (intents is null)
        {
            _released = true;
            return await Context
                .Stores.InsertManyAndUnlockAsync(_storeLock, entities, CancellationToken.None)
                .ConfigureAwait(false);
        }

        if (_storeLock is IOutboxNewStoreLock<TNew> recordingLock)
        {
            _released = true;
            return await Context
                .Stores.InsertManyRecordAndUnlockAsync(recordingLock, entities, intents, CancellationToken.None)
                .ConfigureAwait(false);
        }

        // A store that records intents with its writes but not through its lock: the write on its own, under the lock,
        // which the lease releases afterwards.
        return await Context
            .Stores.InsertManyAndRecordNewAsync(entities, intents, CancellationToken.None)
            .ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_released)
        {
            _released = true;
            await ReleaseAsync(_firstId, _storeLock).ConfigureAwait(false);
        }
    }
}
