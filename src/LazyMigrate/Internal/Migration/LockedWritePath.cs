namespace LazyMigrate.Internal;

/// <summary>
/// A write path whose saves and deletes hold their entity's lock: with forward sync, which reads the new store and
/// writes it under the lock, a save that did not hold it could land in between and be overwritten.
/// </summary>
internal sealed class LockedWritePath<TOld, TNew>(MigrationContext<TOld, TNew> context, IWritePath<TNew> inner)
    : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    public ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        LockedAsync(id, (path, ct) => path.SaveAsync(id, entity, ct), cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        LockedAsync(id, (path, ct) => path.DeleteAsync(id, ct), cancellationToken);

    private async ValueTask LockedAsync(
        string id,
        Func<IWritePath<TNew>, CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    )
    {
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, [id], forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            // Not cancelled once the lock is held: the write either happens whole or not at all.
            cancellationToken.ThrowIfCancellationRequested();
            await write(inner, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
