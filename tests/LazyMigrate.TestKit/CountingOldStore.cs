using System.Collections.Concurrent;

namespace LazyMigrate.TestKit;

/// <summary>Counts the entities read from an old store, by id: a read counts once it has succeeded.</summary>
/// <remarks>
/// A wrapper turns off a store-held lock's read-along (see <see cref="GatedOldStore{TOld}"/>); there
/// <see cref="CountingNewStore{TNew}.OldReadsAlongFor"/> counts the old reads instead.
/// </remarks>
public sealed class CountingOldStore<TOld>(IOldStore<TOld> inner) : AfterReadOldStore<TOld>(inner)
    where TOld : class
{
    private readonly ConcurrentDictionary<string, int> _reads = new(StringComparer.Ordinal);

    /// <summary>Gets how many successful reads asked for <paramref name="id"/>.</summary>
    public int ReadsFor(string id) => _reads.GetValueOrDefault(id);

    protected override Task AfterReadAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        foreach (string id in ids)
        {
            _reads.AddOrUpdate(id, 1, (_, reads) => reads + 1);
        }

        return Task.CompletedTask;
    }
}
