namespace LazyMigrate;

/// <summary>
/// <see cref="WriteBackMode.Sync"/>: the new store, then the old store, before the call returns. The reverse mapper
/// runs first, so a mapping failure writes nothing. Both writes happen under the entity's lock, so concurrent writes
/// of one id reach the two stores in the same order. If the old-store write fails after the new store took the
/// change, the call throws and repeating it converges: both writes are idempotent.
/// </summary>
internal sealed class SyncWriteBackPath<TOld, TNew>(MigrationContext<TOld, TNew> context, IReverseMigrationMapper<TOld, TNew> reverseMapper) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    public ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken)
    {
        var write = new Write(id, entity, MapBack(id, entity));
        return WriteBothAsync(
            "save",
            write,
            static (stores, w, ct) => stores.UpsertNewAsync(w.Id, w.Entity!, ct),
            static (stores, w, ct) => stores.UpsertOldAsync(w.Id, w.OldEntity!, ct),
            cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        WriteBothAsync(
            "delete",
            new Write(id, null, null),
            static (stores, w, ct) => stores.DeleteNewAsync(w.Id, ct),
            static (stores, w, ct) => stores.DeleteOldAsync(w.Id, ct),
            cancellationToken);

    private async ValueTask WriteBothAsync(
        string operation,
        Write write,
        Func<ResilientStores<TOld, TNew>, Write, CancellationToken, ValueTask<bool>> writeNew,
        Func<ResilientStores<TOld, TNew>, Write, CancellationToken, ValueTask<bool>> writeOld,
        CancellationToken cancellationToken)
    {
        LockSet<TOld, TNew> locks = await LockSet<TOld, TNew>.AcquireAsync(context, [write.Id], cancellationToken).ConfigureAwait(false);
        await using (locks.ConfigureAwait(false))
        {
            await writeNew(context.Stores, write, cancellationToken).ConfigureAwait(false);
            try
            {
                await writeOld(context.Stores, write, cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationStoreException exception)
            {
                Log.WriteBackFailed(context.Logger, context.Name, operation, write.Id, exception);
                context.Metrics.Failure(context.Name, FailureKinds.WriteBack);
                throw;
            }
        }
    }

    private TOld MapBack(string id, TNew entity)
    {
        TOld? oldEntity;
        try
        {
            oldEntity = reverseMapper.MapBack(entity);
        }
        catch (Exception exception)
        {
            throw new MigrationMappingException(context.Name, id, $"the reverse mapper threw {exception.GetType().Name}: {exception.Message}", exception);
        }

        return oldEntity ?? throw new MigrationMappingException(context.Name, id, "the reverse mapper returned null");
    }

    private readonly record struct Write(string Id, TNew? Entity, TOld? OldEntity);
}
