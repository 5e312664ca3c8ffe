namespace LazyMigrate.Internal;

/// <summary>
/// How a save or delete through the new API is carried out: the new store, then whatever write-back the mode asks
/// for. This is the seam for <see cref="WriteBackMode.Async"/>, whose outbox row must be written with the change.
/// </summary>
internal interface IWritePath<TNew>
    where TNew : class
{
    ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken);

    ValueTask DeleteAsync(string id, CancellationToken cancellationToken);
}
