using LazyMigrate.Backfill;

namespace LazyMigrate.InMemory;

/// <summary>
/// Backfill checkpoints, leases and quarantine in memory: for unit tests, and the default of a migration that has no
/// checkpoint store of its own (its progress then lasts as long as the process).
/// </summary>
public sealed class InMemoryBackfillCheckpointStore : IBackfillCheckpointStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public ValueTask<BackfillCheckpoint?> LoadAsync(string migration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        lock (_gate)
        {
            return new(_entries.TryGetValue(migration, out Entry? entry) ? entry.Checkpoint : null);
        }
    }

    /// <inheritdoc/>
    public ValueTask<BackfillLeaseResult> TryAcquireAsync(
        string migration,
        string owner,
        DateTimeOffset expiresAt,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            Entry entry = EntryOf(migration);
            if (entry.Owner is not null && entry.Owner != owner && entry.ExpiresAt > now)
            {
                return new(new BackfillLeaseResult(false, entry.Checkpoint, entry.Owner));
            }

            entry.Owner = owner;
            entry.ExpiresAt = expiresAt;
            return new(new BackfillLeaseResult(true, entry.Checkpoint, owner));
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> SaveAsync(
        BackfillCheckpoint checkpoint,
        string owner,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            Entry entry = EntryOf(checkpoint.Migration);
            if (entry.Owner != owner)
            {
                return new(false);
            }

            entry.Checkpoint = checkpoint;
            entry.ExpiresAt = expiresAt;
            return new(true);
        }
    }

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(string migration, string owner, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(migration, out Entry? entry) && entry.Owner == owner)
            {
                entry.Owner = null;
            }
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask QuarantineAsync(
        string migration,
        IReadOnlyCollection<QuarantinedEntity> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        lock (_gate)
        {
            SortedDictionary<string, QuarantinedEntity> quarantine = EntryOf(migration).Quarantine;
            foreach (QuarantinedEntity entity in entities)
            {
                quarantine[entity.EntityId] = quarantine.TryGetValue(entity.EntityId, out QuarantinedEntity? earlier)
                    ? entity with
                    {
                        Attempts = earlier.Attempts + entity.Attempts,
                    }
                    : entity;
            }
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string migration,
        string? afterId,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        lock (_gate)
        {
            IEnumerable<QuarantinedEntity> all = EntryOf(migration).Quarantine.Values;
            return new(
                all.Where(e => afterId is null || string.CompareOrdinal(e.EntityId, afterId) > 0).Take(limit).ToList()
            );
        }
    }

    /// <inheritdoc/>
    public ValueTask ClearQuarantinedAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entityIds);
        lock (_gate)
        {
            SortedDictionary<string, QuarantinedEntity> quarantine = EntryOf(migration).Quarantine;
            foreach (string id in entityIds)
            {
                quarantine.Remove(id);
            }
        }

        return default;
    }

    private Entry EntryOf(string migration)
    {
        if (!_entries.TryGetValue(migration, out Entry? entry))
        {
            entry = new Entry();
            _entries.Add(migration, entry);
        }

        return entry;
    }

    private sealed class Entry
    {
        public BackfillCheckpoint? Checkpoint { get; set; }

        public string? Owner { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        public SortedDictionary<string, QuarantinedEntity> Quarantine { get; } = new(StringComparer.Ordinal);
    }
}
