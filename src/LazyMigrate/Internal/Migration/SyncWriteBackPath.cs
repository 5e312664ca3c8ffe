namespace LazyMigrate.Internal;

/// <summary>
/// <see cref="WriteBackMode.Sync"/>: the new store, then the old store, before the call returns. Both writes happen
/// under the entity's lock (validation requires <see cref="LazyMigrationOptions.UseLock"/> for this mode), so
/// concurrent writes of one id reach the two stores in the same order. The reverse mapping runs under the lock before
/// either write, so a mapping failure writes nothing; a reverse merger first reads the old store's current record
/// there, so no other write-back of the id changes it before the merged record lands. Once the writes start they are
/// not cancelled: a caller who gives up between them would leave the old store behind. If the old-store write fails
/// after the new store took the change, the call throws and repeating it converges: both writes are idempotent.
/// </summary>
/// <remarks>
/// A lock known to be lost by the time both writes are done (<see cref="MigrationLease{TOld, TNew}.LockLostToken"/>,
/// checked by <see cref="MigrationLease{TOld, TNew}.ReleaseAndTellIfLostAsync"/> after the release, where some locks
/// learn of a loss) means another writer of
/// the id may have run between them, and this call's old-store write may have landed after that writer's: the call
/// then locks the id again and copies the new store's current state (a value through the reverse mapping, merged with
/// a fresh read of the old store for a merger, or a tombstone as a delete) to the old store, so the two stores agree
/// again.
/// </remarks>
internal sealed class SyncWriteBackPath<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    ReverseMapping<TOld, TNew> reverseMapping
) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    private static readonly WriteFunc UpsertNew = static (stores, w) =>
        stores.UpsertNewAsync(w.Id, w.Entity!, CancellationToken.None);

    private static readonly WriteFunc UpsertOld = static (stores, w) =>
        stores.UpsertOldAsync(w.Id, w.OldEntity!, CancellationToken.None);

    private static readonly WriteFunc DeleteNew = static (stores, w) =>
        stores.DeleteNewAsync(w.Id, CancellationToken.None);

    private static readonly WriteFunc DeleteOld = static (stores, w) =>
        stores.DeleteOldAsync(w.Id, CancellationToken.None);

    private delegate ValueTask<bool> WriteFunc(ResilientStores<TOld, TNew> stores, Write write);

    public ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        WriteBothAsync("save", id, entity, UpsertNew, UpsertOld, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        WriteBothAsync("delete", id, null, DeleteNew, DeleteOld, cancellationToken);

    /// <summary>
    /// Under the lock of <paramref name="id"/>: maps a saved <paramref name="entity"/> back (a delete has none), then
    /// writes the new store and the old store.
    /// </summary>
    private async ValueTask WriteBothAsync(
        string operation,
        string id,
        TNew? entity,
        WriteFunc writeNew,
        WriteFunc writeOld,
        CancellationToken cancellationToken
    )
    {
        // An id the new store takes but the old store cannot key on would leave the new store changed and the old
        // store never: refused before either write, and before the lock.
        context.Stores.ValidateOldId(id);
        bool lockLost;
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, [id], forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            // Asked for before the writes: a provider may start watching its lock only when asked.
            CancellationToken lost = lease.LockLostToken;
            TOld? oldEntity = entity is null
                ? null
                : await reverseMapping.ToOldAsync(context, id, entity, cancellationToken).ConfigureAwait(false);
            var write = new Write(id, entity, oldEntity);
            cancellationToken.ThrowIfCancellationRequested();
            await writeNew(context.Stores, write).ConfigureAwait(false);
            await WriteOldAsync(operation, write, writeOld).ConfigureAwait(false);

            // Checked after the release, where some locks learn of a loss; the lock is released before the repair
            // locks the id again.
            lockLost = await lease.ReleaseAndTellIfLostAsync(lost).ConfigureAwait(false);
        }

        if (lockLost)
        {
            Log.WriteBackLockLost(context.Logger, context.Name, operation, id);
            await CopyCurrentToOldAsync(operation, id).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Under a new lock of <paramref name="id"/>, writes what the new store holds now to the old store, so the last
    /// write in the new store is the last in the old store too. Not cancelled by the caller, whose change is in the new
    /// store already.
    /// </summary>
    private async ValueTask CopyCurrentToOldAsync(string operation, string id)
    {
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, [id], forMigration: false, CancellationToken.None)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            NewStoreRead<TNew> current = await context
                .Stores.FindNewAsync(id, CancellationToken.None)
                .ConfigureAwait(false);
            if (current.State == NewStoreState.Found)
            {
                TOld oldEntity = await reverseMapping
                    .ToOldAsync(context, id, current.Value!, CancellationToken.None)
                    .ConfigureAwait(false);
                await WriteOldAsync(operation, new Write(id, null, oldEntity), UpsertOld).ConfigureAwait(false);
            }
            else if (current.State == NewStoreState.Deleted)
            {
                await WriteOldAsync(operation, new Write(id, null, null), DeleteOld).ConfigureAwait(false);
            }

            // Missing: the new store lost the id (cleared by hand); the old store is left as it is.
        }
    }

    private async ValueTask WriteOldAsync(string operation, Write write, WriteFunc writeOld)
    {
        try
        {
            await writeOld(context.Stores, write).ConfigureAwait(false);
        }
        catch (MigrationStoreException exception)
        {
            Log.WriteBackFailed(context.Logger, context.Name, operation, write.Id, exception);
            context.Metrics.Failure(context.Name, FailureKinds.WriteBack);
            throw;
        }
    }

    private readonly record struct Write(string Id, TNew? Entity, TOld? OldEntity);
}
