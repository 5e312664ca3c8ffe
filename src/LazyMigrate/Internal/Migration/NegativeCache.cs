using Microsoft.Extensions.Caching.Memory;

namespace LazyMigrate.Internal;

/// <summary>
/// Remembers for a short time the ids found in neither store, so that a flood of reads of unknown ids does not reach
/// the old store. Consulted only after a miss in the new store, so a saved id is seen at once.
/// </summary>
internal sealed class NegativeCache(IMemoryCache? cache, string migration, TimeSpan duration, TimeProvider timeProvider)
{
    private readonly string _prefix = $"lazymigrate:absent:{migration}:";

    private bool Enabled => cache is not null && duration > TimeSpan.Zero;

    public bool IsKnownAbsent(string id) =>
        Enabled && cache!.TryGetValue(_prefix + id, out DateTimeOffset until) && timeProvider.GetUtcNow() < until;

    public void Remember(string id)
    {
        if (Enabled)
        {
            // The expiry is checked against the injected clock; the cache's own expiry only evicts the entry later.
            // Size 1 keeps a shared cache that has a SizeLimit from refusing the entry.
            cache!.Set(
                _prefix + id,
                timeProvider.GetUtcNow() + duration,
                new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = duration, Size = 1 }
            );
        }
    }

    public void Forget(string id)
    {
        if (Enabled)
        {
            cache!.Remove(_prefix + id);
        }
    }
}
