namespace LazyMigrate.Internal;

/// <summary><see cref="WriteBackMode.None"/>: changes go to the new store only.</summary>
internal sealed class NewStoreOnlyWritePath<TOld, TNew>(ResilientStores<TOld, TNew> stores) : IWritePath<TNew>
    where TOld : class
    where TNew : class
{
    public async ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken) =>
        await stores.UpsertNewAsync(id, entity, cancellationToken).ConfigureAwait(false);

    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        await stores.DeleteNewAsync(id, cancellationToken).ConfigureAwait(false);
}
