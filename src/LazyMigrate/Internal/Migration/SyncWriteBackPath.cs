namespace LazyMigrate.Internal;

/// <summary>
/// <see cref="WriteBackMode.Sync"/>: the new store, then the old store, before the call returns. The reverse mapper
/// runs first, so a mapping failure writes nothing. Both writes happen under the entity's lock (validation requires
/// <see cref="LazyMigrationOptions.UseLock"/> for this mode), so concurrent writes of one id reach the two stores in
/// the same order. Once the lock is held the two writes are not cancelled: a caller who gives up between them would
/// leave the old store behind. If the old-store write fails after the new store took the change, the call throws and
/// repeating it converges: both writes are idempotent.
/// </summary>
internal sealed class SyncWriteBackPath<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    IReverseMigrationMapper<TOld, TNew> reverseMapper
) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    public ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken)
    {
        TOld oldEntity = Mapping.Run(context.Name, id, "reverse mapper", reverseMapper.MapBack, entity);
        return WriteBothAsync(
            "save",
            new Write(id, entity, oldEntity),
            static (stores, w) => stores.UpsertNewAsync(w.Id, w.Entity!, CancellationToken.None),
            static (stores, w) => stores.UpsertOldAsync(w.Id, w.OldEntity!, CancellationToken.None),
            cancellationToken
        );
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        WriteBothAsync(
            "delete",
            new Write(id, null, null),
            static (stores, w) => stores.DeleteNewAsync(w.Id, CancellationToken.None),
            static (stores, w) => stores.DeleteOldAsync(w.Id, CancellationToken.None),
            cancellationToken
        );

    private async ValueTask WriteBothAsync(
        string operation,
        Write write,
        Func<ResilientStores<TOld, TNew>, Write, ValueTask<bool>> writeNew,
        Func<ResilientStores<TOld, TNew>, Write, ValueTask<bool>> writeOld,
        CancellationToken cancellationToken
    )
    {
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, [write.Id], forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writeNew(context.Stores, write).ConfigureAwait(false);
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
    }

    private readonly record struct Write(string Id, TNew? Entity, TOld? OldEntity);
}
