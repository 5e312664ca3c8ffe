using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// What a migration (or a write-back) holds while it works on a batch of ids: the locks, from a lock provider, from
/// the new store itself, or none, and the way its inserts reach the new store.
/// </summary>
internal abstract class MigrationLease<TOld, TNew> : IAsyncDisposable
    where TOld : class
    where TNew : class
{
    protected MigrationLease(MigrationContext<TOld, TNew> context) => Context = context;

    /// <summary>
    /// Gets what the new store held for the ids once they were locked, when it is known without another read: the
    /// new store read it with its locks, or no lock made this caller wait (then insert-if-absent settles the rare
    /// race). <see langword="null"/> means: read the new store again, another instance may have won meanwhile.
    /// </summary>
    public abstract IReadOnlyDictionary<string, NewStoreRead<TNew>>? KnownState { get; }

    /// <summary>
    /// Gets the old store's entities for the ids that <see cref="KnownState"/> lacks, when the lock read them along
    /// (<see cref="IOldStoreReadAlong{TOld}"/>); <see langword="null"/> means: read the old store.
    /// </summary>
    public virtual IReadOnlyDictionary<string, TOld>? OldEntities => null;

    /// <summary>
    /// Gets a token cancelled when the lease's lock is known to be lost, or <see cref="CancellationToken.None"/> when
    /// the lock cannot tell (<see cref="IMigrationLockHandle.HandleLostToken"/>). Reading it may start a provider's
    /// watch of its lock (DistributedLock's PostgreSQL lock watches its connection from then on), so only a
    /// write-back, which holds one lock, asks for it, and before it writes.
    /// </summary>
    public virtual CancellationToken LockLostToken => CancellationToken.None;

    protected MigrationContext<TOld, TNew> Context { get; }

    /// <summary>
    /// Releases the lease and tells whether its lock was known to be lost by <paramref name="lost"/>, the
    /// <see cref="LockLostToken"/> read before the work, checked after the release: some locks learn of a loss only
    /// there (the PostgreSQL store's <c>ROLLBACK</c>, or the advisory lock's unlock, fails or finds nothing held on a
    /// session that was terminated), and the token, read before, stays valid after it. No lock cancels it on an
    /// ordinary release.
    /// </summary>
    public async ValueTask<bool> ReleaseAndTellIfLostAsync(CancellationToken lost)
    {
        await DisposeAsync().ConfigureAwait(false);
        return lost.IsCancellationRequested;
    }

    /// <summary>Takes the locks of <paramref name="ids"/> the way the options say.</summary>
    /// <param name="context">The migration.</param>
    /// <param name="ids">Distinct ids.</param>
    /// <param name="forMigration">
    /// Whether the lease is for a migration, which reads the old store next: a store-held lock may then read it along
    /// (<see cref="OldEntities"/>). A write-back's lease reads nothing along (a reverse merger reads the old store
    /// itself, under the lease).
    /// </param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="MigrationLockTimeoutException">A lock was not acquired in time; nothing is held.</exception>
    public static async ValueTask<MigrationLease<TOld, TNew>> AcquireAsync(
        MigrationContext<TOld, TNew> context,
        IReadOnlyList<string> ids,
        bool forMigration,
        CancellationToken cancellationToken
    ) =>
        context.Options is { UseLock: true, LockInNewStore: true }
            ? await NewStoreLockLease<TOld, TNew>
                .AcquireAsync(context, ids, forMigration, cancellationToken)
                .ConfigureAwait(false)
            : await ProviderLockLease<TOld, TNew>.AcquireAsync(context, ids, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Inserts the mapped entities by insert-if-absent; a store-held lease releases its locks in the same call.
    /// </summary>
    /// <param name="entities">The mapped entities.</param>
    /// <param name="intents">
    /// The events to record with the insert, for the ids it inserts, when the new store records intents with its
    /// changes (<see cref="ResilientStores{TOld, TNew}.RecordsWithChanges"/>); otherwise <see langword="null"/>.
    /// </param>
    public abstract ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents
    );

    public abstract ValueTask DisposeAsync();

    /// <summary>Logs and builds the timeout of a lock on <paramref name="id"/>.</summary>
    protected static MigrationLockTimeoutException TimedOut(MigrationContext<TOld, TNew> context, string id)
    {
        Log.LockTimeout(context.Logger, context.Name, id, context.Options.LockTimeout);
        return new MigrationLockTimeoutException(context.Name, id, context.Options.LockTimeout);
    }

    /// <summary>
    /// Releases a lock; a failure is logged, never thrown: the result stands, and the lock expires or dies with its
    /// connection.
    /// </summary>
    protected async ValueTask ReleaseAsync(string id, IAsyncDisposable handle)
    {
        try
        {
            await Context.Stores.ReleaseLockAsync(id, handle).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.LockReleaseFailed(Context.Logger, Context.Name, id, exception);
        }
    }
}
