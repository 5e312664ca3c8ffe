using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Orders the two directions of one entity: a write-back (new store to old) and a forward sync (old store to new)
/// pending together mean the entity was written through both APIs, and the one recorded last must win in both stores.
/// The other is dropped unapplied: applied first, it would copy the older write over the newer one.
/// </summary>
/// <remarks>
/// Both are state-based, so the winner copies the newest state of its side; the loser's write is then the older one,
/// which is what "the last write wins" asks to lose. The items are read under the entities' locks, which every
/// write-back and forward sync holds.
/// </remarks>
internal static class SyncOrder
{
    /// <summary>
    /// Gets the ids whose <paramref name="applying"/> item a later item of the other direction supersedes: the other
    /// one exists and was recorded after it (a greater sequence), or it is gone itself (someone completed it).
    /// </summary>
    public static HashSet<string> Superseded(IReadOnlyList<OutboxItem> items, OutboxItemKind applying)
    {
        OutboxItemKind other =
            applying == OutboxItemKind.WriteBack ? OutboxItemKind.ForwardSync : OutboxItemKind.WriteBack;
        var own = new Dictionary<string, long>(StringComparer.Ordinal);
        var others = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (OutboxItem item in items)
        {
            if (item.Kind == applying)
            {
                own[item.EntityId] = item.Sequence;
            }
            else if (item.Kind == other)
            {
                others[item.EntityId] = item.Sequence;
            }
        }

        var superseded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, sequence) in others)
        {
            if (!own.TryGetValue(id, out long mine) || sequence > mine)
            {
                superseded.Add(id);
            }
        }

        return superseded;
    }
}
