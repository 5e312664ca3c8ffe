namespace LazyMigrate;

/// <summary>
/// <see cref="WriteBackMode.Sync"/>: the new store, then the old store, before the call returns. The reverse mapper
/// runs first, so a mapping failure writes nothing. If the old-store write fails after the new store took the change,
/// the call throws and repeating it converges: both writes are idempotent.
/// </summary>
internal sealed class SyncWriteBackPath<TOld, TNew>(MigrationContext<TOld, TNew> context, IReverseMigrationMapper<TOld, TNew> reverseMapper) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    private const string SaveOperation = "save";
    private const string DeleteOperation = "delete";

    public async ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken)
    {
        TOld oldEntity = MapBack(id, entity);
        await context.Stores.UpsertNewAsync(id, entity, cancellationToken).ConfigureAwait(false);
        await WriteBackAsync(SaveOperation, id, context.Stores.UpsertOldAsync(id, oldEntity, cancellationToken)).ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await context.Stores.DeleteNewAsync(id, cancellationToken).ConfigureAwait(false);
        await WriteBackAsync(DeleteOperation, id, context.Stores.DeleteOldAsync(id, cancellationToken)).ConfigureAwait(false);
    }

    private async ValueTask WriteBackAsync(string operation, string id, ValueTask<bool> write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (MigrationStoreException exception)
        {
            Log.WriteBackFailed(context.Logger, context.Name, operation, id, exception);
            context.Metrics.Failure(context.Name, FailureKinds.WriteBack);
            throw;
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
}
