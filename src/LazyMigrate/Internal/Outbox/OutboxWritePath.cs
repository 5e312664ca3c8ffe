using System.Runtime.ExceptionServices;
using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Write-back through the outbox: each save or delete records a write-back item with its change (in the same
/// transaction where the new store allows it), so the old store is brought up to date even if this process dies or the
/// old store is down. <see cref="WriteBackMode.Async"/> returns once both are committed and leaves the rest to the
/// dispatcher; <see cref="WriteBackMode.Sync"/> also applies the item before returning and completes it.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="WriteBackMode.Sync"/> writes under the entity's lock (validation requires
/// <see cref="LazyMigrationOptions.UseLock"/> for it), so concurrent writes of one id reach the two stores in the same
/// order. The reverse mapping runs under the lock before either write, so a mapping failure writes nothing. Once the
/// writes start they are not cancelled. If the old-store write fails, the call throws as it always did, and the item
/// stays for the dispatcher to repair the old store. If the lock is known to be lost by the time both writes are done
/// (another writer may have run between them), the call copies the new store's current state again under a new lock.
/// </para>
/// <para>
/// A new store that cannot record intents with its changes gets the intent recorded before the change (a crash after
/// the change is then repaired) and again after it: a dispatcher that read the state before the change cannot
/// complete the item, since its version moved on.
/// </para>
/// </remarks>
internal sealed class OutboxWritePath<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    ReverseMapping<TOld, TNew> reverseMapping,
    WriteBackApplier<TOld, TNew> applier
) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    private bool IsSync => context.Options.WriteBackMode == WriteBackMode.Sync;

    public ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        WriteAsync("save", id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync("delete", id, null, cancellationToken);

    private async ValueTask WriteAsync(string operation, string id, TNew? entity, CancellationToken cancellationToken)
    {
        // An id the new store takes but the old store cannot key on would leave an item that can never apply: refused
        // before anything is written.
        context.Stores.ValidateOldId(id);
        if (!IsSync)
        {
            await RecordAndWriteNewAsync(id, entity, cancellationToken).ConfigureAwait(false);
            context.Outbox.Wake();
            return;
        }

        bool lockLost;
        bool superseded;
        long version;
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
            cancellationToken.ThrowIfCancellationRequested();
            version = await RecordAndWriteNewAsync(id, entity, CancellationToken.None).ConfigureAwait(false);
            superseded = await WriteOldAsync(operation, id, oldEntity).ConfigureAwait(false);

            // Checked after the release, where some locks learn of a loss; the lock is released before the repair
            // locks the id again.
            lockLost = await lease.ReleaseAndTellIfLostAsync(lost).ConfigureAwait(false);
        }

        if (lockLost)
        {
            Log.WriteBackLockLost(context.Logger, context.Name, operation, id);
            ApplyResult result = await applier.ApplyAsync([id], 1, CancellationToken.None).ConfigureAwait(false);
            if (result.Failures.TryGetValue(id, out Exception? failure))
            {
                // The item stays: the dispatcher repairs the old store. The caller learns that it is behind now.
                context.Outbox.Wake();
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        if (await CompleteAsync(id, version).ConfigureAwait(false) && superseded)
        {
            // Completed without a write to the old store, as the dispatcher counts the ones it leaves out.
            context.Metrics.OutboxSkipped(context.Name, OutboxItemKind.WriteBack, SkipReasons.Superseded, 1);
        }
    }

    /// <summary>Writes the new store and records the write-back item; returns the item's version.</summary>
    private async ValueTask<long> RecordAndWriteNewAsync(string id, TNew? entity, CancellationToken cancellationToken)
    {
        var intent = new OutboxIntent(
            context.Name,
            OutboxItemKind.WriteBack,
            id,
            null,
            context.TimeProvider.GetUtcNow()
        );
        if (context.Stores.RecordsWithChanges)
        {
            return entity is null
                ? await context.Stores.DeleteAndRecordNewAsync(id, intent, cancellationToken).ConfigureAwait(false)
                : await context
                    .Stores.UpsertAndRecordNewAsync(id, entity, intent, cancellationToken)
                    .ConfigureAwait(false);
        }

        await context.Stores.RecordAsync(intent, cancellationToken).ConfigureAwait(false);
        _ = entity is null
            ? await context.Stores.DeleteNewAsync(id, CancellationToken.None).ConfigureAwait(false)
            : await context.Stores.UpsertNewAsync(id, entity, CancellationToken.None).ConfigureAwait(false);
        return await context.Stores.RecordAsync(intent, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the old store; returns whether it refused the write as superseded by a later old-API write of the entity
    /// (<see cref="WriteBackSupersededException"/>), which is no failure.
    /// </summary>
    private async ValueTask<bool> WriteOldAsync(string operation, string id, TOld? oldEntity)
    {
        try
        {
            _ = oldEntity is null
                ? await context.Stores.DeleteOldAsync(id, CancellationToken.None).ConfigureAwait(false)
                : await context.Stores.UpsertOldAsync(id, oldEntity, CancellationToken.None).ConfigureAwait(false);
            return false;
        }
        catch (WriteBackSupersededException refused) when (refused.IsOf(id))
        {
            // An old-API write came after this one, and stays in the old store: its forward sync brings the new store
            // up to it, so the write that came last wins in both. The save itself succeeded.
            Log.OutboxItemSkipped(context.Logger, context.Name, OutboxItemKind.WriteBack, id, SkipReasons.Superseded);
            context.Outbox.Wake();
            return true;
        }
        catch (MigrationStoreException exception)
        {
            throw WriteBackFailed(operation, id, exception);
        }
        catch (UnstorableEntityException unstorable)
        {
            // The old store cannot hold what the new one already does: the save is not "nothing written", so it fails
            // as any write-back of it does, naming the old store, with the item left pending (dead-lettered in time).
            throw WriteBackFailed(
                operation,
                id,
                new MigrationStoreException(context.Name, id, MigrationRole.OldStore, operation, unstorable)
            );
        }
    }

    /// <summary>
    /// A write-back that failed after the new store took the save: logged, counted, and left to the dispatcher.
    /// </summary>
    private MigrationStoreException WriteBackFailed(string operation, string id, MigrationStoreException exception)
    {
        Log.WriteBackFailed(context.Logger, context.Name, operation, id, exception);
        context.Metrics.Failure(context.Name, FailureKinds.WriteBack);

        // The item stays: the dispatcher repairs the old store.
        context.Outbox.Wake();
        return exception;
    }

    /// <summary>
    /// Completes the item the call applied, if no write came after it; a failure leaves it for the dispatcher, which
    /// applies the current state again: harmless. Returns whether the completion went through.
    /// </summary>
    private async ValueTask<bool> CompleteAsync(string id, long version)
    {
        DateTimeOffset now = context.TimeProvider.GetUtcNow();
        var applied = new OutboxItem
        {
            Migration = context.Name,
            Kind = OutboxItemKind.WriteBack,
            EntityId = id,
            Version = version,
            RecordedAt = now,
            NextAttemptAt = now,
        };
        try
        {
            await context.Stores.CompleteAsync([applied], CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (MigrationStoreException exception)
        {
            Log.OutboxCompletionFailed(context.Logger, context.Name, id, exception);
            context.Outbox.Wake();
            return false;
        }
    }
}
