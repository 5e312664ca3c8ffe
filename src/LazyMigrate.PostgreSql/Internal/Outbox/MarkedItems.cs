using LazyMigrate.Outbox;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// What a lookup reads beside the items: records not in the outbox's table yet, each as an item of version 0 (no row
/// has it), the mark. A write-back pending in its entity's row (<see cref="PendingWriteBacks"/>) and a legacy write a
/// trigger captured (<see cref="CapturedWrites"/>) are such marks.
/// </summary>
internal static class MarkedItems
{
    /// <summary>
    /// Merges what a lookup read: one item per kind and entity, the item (or the mark alone) with the greater sequence
    /// of the two.
    /// </summary>
    public static IReadOnlyList<OutboxItem> Merge(IReadOnlyList<OutboxItem> read)
    {
        var marks = new Dictionary<(OutboxItemKind, string), OutboxItem>();
        foreach (OutboxItem item in read)
        {
            if (item.Version == 0)
            {
                marks[(item.Kind, item.EntityId)] = item;
            }
        }

        if (marks.Count == 0)
        {
            return read;
        }

        var merged = new List<OutboxItem>(read.Count);
        foreach (OutboxItem item in read)
        {
            if (item.Version != 0)
            {
                merged.Add(
                    marks.Remove((item.Kind, item.EntityId), out OutboxItem? mark)
                        ? WithSequence(item, mark.Sequence)
                        : item
                );
            }
        }

        merged.AddRange(marks.Values);
        return merged;
    }

    /// <summary>
    /// The item, pending again since a later write marked it: ordered by that write, and no longer a dead letter (the
    /// claim that makes the mark's item revives it, as a record does).
    /// </summary>
    private static OutboxItem WithSequence(OutboxItem item, long markSequence) =>
        new()
        {
            Migration = item.Migration,
            Kind = item.Kind,
            EntityId = item.EntityId,
            Version = item.Version,
            Sequence = Math.Max(item.Sequence, markSequence),
            Payload = item.Payload,
            RecordedAt = item.RecordedAt,
            Attempts = item.IsDeadLettered ? 0 : item.Attempts,
            NextAttemptAt = item.NextAttemptAt,
            LastError = item.LastError,
            IsDeadLettered = false,
            LeaseOwner = item.LeaseOwner,
            LeaseExpiresAt = item.LeaseExpiresAt,
        };
}
