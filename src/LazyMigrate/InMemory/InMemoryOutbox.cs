using LazyMigrate.Outbox;

namespace LazyMigrate.InMemory;

/// <summary>
/// A thread-safe outbox in memory, for unit tests and samples: it holds the rules of <see cref="IMigrationOutbox"/>
/// but not durability, so what it holds is lost with the process. Easy to inspect.
/// </summary>
public sealed class InMemoryOutbox : IMigrationOutbox
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Migration, OutboxItemKind Kind, string EntityId), Entry> _entries = [];
    private long _sequence;

    /// <summary>Gets a copy of every item held, dead letters included.</summary>
    /// <returns>The items.</returns>
    public IReadOnlyList<OutboxItem> Snapshot()
    {
        lock (_gate)
        {
            return [.. _entries.Values.Select(e => e.ToItem())];
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intent);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var key = (intent.Migration, intent.Kind, intent.EntityId);
            if (!_entries.TryGetValue(key, out Entry? entry))
            {
                entry = new Entry(intent) { Sequence = ++_sequence };
                _entries[key] = entry;
            }
            else if (intent.Kind != OutboxItemKind.EntityMigrated)
            {
                entry.Version++;
                entry.Sequence = ++_sequence;
                if (entry.IsDeadLettered)
                {
                    // A new write is a new chance: the dead letter becomes due again, with no attempts.
                    entry.IsDeadLettered = false;
                    entry.Attempts = 0;
                    entry.NextAttemptAt = intent.RecordedAt;
                }
            }

            return new ValueTask<long>(entry.Version);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(claim);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<Entry> due =
            [
                .. _entries
                    .Values.Where(e =>
                        e.Migration == claim.Migration
                        && !e.IsDeadLettered
                        && e.NextAttemptAt <= claim.Now
                        && (e.LeaseExpiresAt is null || e.LeaseExpiresAt <= claim.Now)
                    )
                    .OrderBy(e => e.NextAttemptAt)
                    .Take(claim.MaxItems),
            ];
            foreach (Entry entry in due)
            {
                entry.LeaseOwner = claim.Owner;
                entry.LeaseExpiresAt = claim.LeaseUntil;
            }

            return new ValueTask<IReadOnlyList<OutboxItem>>([.. due.Select(e => e.ToItem())]);
        }
    }

    /// <inheritdoc/>
    public ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        int deleted = 0;
        lock (_gate)
        {
            foreach (OutboxItem claimed in items)
            {
                if (!_entries.TryGetValue(Key(claimed), out Entry? entry))
                {
                    continue;
                }

                // Only the lease holder completes (or, for an item no one claimed, a caller holding none): a late
                // owner could otherwise delete the entity's next item, recorded at version 1 again.
                if (entry.LeaseOwner != claimed.LeaseOwner)
                {
                    continue;
                }

                if (entry.Version == claimed.Version)
                {
                    _entries.Remove(Key(claimed));
                    deleted++;
                }
                else
                {
                    // A later write changed it: due at once, for whoever claims next.
                    entry.LeaseOwner = null;
                    entry.LeaseExpiresAt = null;
                }
            }
        }

        return new ValueTask<int>(deleted);
    }

    /// <inheritdoc/>
    public ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    ) => Fail(item, error, nextAttemptAt, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken = default) =>
        Fail(item, error, null, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return new ValueTask<IReadOnlyList<OutboxItem>>([
                .. DeadLetters(migration, null)
                    .OrderBy(e => e.RecordedAt)
                    .ThenBy(e => e.EntityId, StringComparer.Ordinal)
                    .Take(limit)
                    .Select(e => e.ToItem()),
            ]);
        }
    }

    /// <inheritdoc/>
    public ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<Entry> dead = DeadLetters(migration, entityIds);
            foreach (Entry entry in dead)
            {
                entry.IsDeadLettered = false;
                entry.Attempts = 0;
                entry.NextAttemptAt = now;
            }

            return new ValueTask<int>(dead.Count);
        }
    }

    /// <inheritdoc/>
    public ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<Entry> dead = DeadLetters(migration, entityIds);
            foreach (Entry entry in dead)
            {
                _entries.Remove((entry.Migration, entry.Kind, entry.EntityId));
            }

            return new ValueTask<int>(dead.Count);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<OutboxItem>> FindAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entityIds);
        cancellationToken.ThrowIfCancellationRequested();
        var wanted = entityIds.ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            return new ValueTask<IReadOnlyList<OutboxItem>>([
                .. _entries
                    .Values.Where(e => e.Migration == migration && wanted.Contains(e.EntityId))
                    .Select(e => e.ToItem()),
            ]);
        }
    }

    /// <inheritdoc/>
    public ValueTask<OutboxStatistics> GetStatisticsAsync(
        string migration,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var mine = _entries.Values.Where(e => e.Migration == migration).ToList();
            var pending = mine.Where(e => !e.IsDeadLettered).GroupBy(e => e.Kind).ToList();
            return new ValueTask<OutboxStatistics>(
                new OutboxStatistics(
                    pending.ToDictionary(g => g.Key, g => (long)g.Count()),
                    pending.ToDictionary(g => g.Key, g => g.Min(e => e.RecordedAt)),
                    mine.Where(e => e.IsDeadLettered)
                        .GroupBy(e => e.Kind)
                        .ToDictionary(g => g.Key, g => (long)g.Count())
                )
            );
        }
    }

    private static (string, OutboxItemKind, string) Key(OutboxItem item) => (item.Migration, item.Kind, item.EntityId);

    private List<Entry> DeadLetters(string migration, IReadOnlyCollection<string>? entityIds) =>
        [
            .. _entries.Values.Where(e =>
                e.Migration == migration
                && e.IsDeadLettered
                && (entityIds is null || entityIds.Contains(e.EntityId, StringComparer.Ordinal))
            ),
        ];

    /// <summary>A failed attempt: due again at <paramref name="nextAttemptAt"/>, or dead-lettered when null.</summary>
    private ValueTask Fail(
        OutboxItem item,
        string error,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            // A lease that passed to another owner (ours ended) is theirs to settle; an item held by no one (as
            // listed, or released) is no one's, as in SQL, where a null owner equals nothing.
            if (
                item.LeaseOwner is not null
                && _entries.TryGetValue(Key(item), out Entry? entry)
                && entry.LeaseOwner == item.LeaseOwner
            )
            {
                // A last attempt of a state a newer write replaced is no reason to give up on the newer one.
                bool deadLettered = nextAttemptAt is null && entry.Version == item.Version;
                entry.Attempts = nextAttemptAt is null && !deadLettered ? 0 : entry.Attempts + 1;
                entry.LastError = error;
                entry.IsDeadLettered = deadLettered;
                entry.NextAttemptAt = nextAttemptAt ?? entry.NextAttemptAt;
                entry.LeaseOwner = null;
                entry.LeaseExpiresAt = null;
            }
        }

        return default;
    }

    /// <summary>An item as the outbox holds it, changed in place under the gate.</summary>
    private sealed class Entry(OutboxIntent intent)
    {
        public string Migration { get; } = intent.Migration;

        public OutboxItemKind Kind { get; } = intent.Kind;

        public string EntityId { get; } = intent.EntityId;

        public string? Payload { get; } = intent.Payload;

        public DateTimeOffset RecordedAt { get; } = intent.RecordedAt;

        public long Version { get; set; } = 1;

        public long Sequence { get; set; }

        public int Attempts { get; set; }

        public DateTimeOffset NextAttemptAt { get; set; } = intent.RecordedAt;

        public string? LastError { get; set; }

        public bool IsDeadLettered { get; set; }

        public string? LeaseOwner { get; set; }

        public DateTimeOffset? LeaseExpiresAt { get; set; }

        public OutboxItem ToItem() =>
            new()
            {
                Migration = Migration,
                Kind = Kind,
                EntityId = EntityId,
                Version = Version,
                Sequence = Sequence,
                Payload = Payload,
                RecordedAt = RecordedAt,
                Attempts = Attempts,
                NextAttemptAt = NextAttemptAt,
                LastError = LastError,
                IsDeadLettered = IsDeadLettered,
                LeaseOwner = LeaseOwner,
                LeaseExpiresAt = LeaseExpiresAt,
            };
    }
}
