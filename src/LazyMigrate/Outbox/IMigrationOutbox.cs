namespace LazyMigrate.Outbox;

/// <summary>
/// The durable outbox of intents that carries what must happen after a write: write-back to the old store and
/// <see cref="EntityMigrated{TOld, TNew}"/> delivery. Dispatchers on every instance claim its items into short leases,
/// apply them and complete them. One outbox may serve several migrations: every call names one.
/// </summary>
/// <remarks>
/// <para>
/// Implementations are thread-safe and hold these rules, which the TestKit's outbox conformance suite checks:
/// </para>
/// <list type="bullet">
/// <item>One item per (migration, kind, entity id). Recording a write-back of an entity that has one pending bumps its
/// version and keeps its first <see cref="OutboxItem.RecordedAt"/>, its attempts and its next attempt time; a
/// dead-lettered one comes back to life as due, with no attempts (a new write is a new chance). Recording an
/// <see cref="OutboxItemKind.EntityMigrated"/> item that exists changes nothing: an entity migrates once.</item>
/// <item>Every record of an item (its first and each one coalesced into it) gives it a
/// <see cref="OutboxItem.Sequence"/> greater than any the outbox gave before; recording an event that exists leaves its
/// sequence.</item>
/// <item>A claim leases due items (not dead-lettered, due at or before <see cref="OutboxClaim.Now"/>, with no lease or
/// an ended one), oldest due first, and never leases an item to two owners at once, however many claim
/// together.</item>
/// <item>Completing deletes an item only if its version is still the one claimed; an item a later write changed is
/// released, due at once. Completion, rescheduling and dead-lettering of an item whose lease passed to another owner
/// change nothing but a completion by version.</item>
/// <item>Dead letters stay until replayed or purged.</item>
/// </list>
/// <para>Times come from the caller's clock (its <see cref="TimeProvider"/>), never from the store's.</para>
/// </remarks>
public interface IMigrationOutbox
{
    /// <summary>
    /// Records an intent outside any transaction of a store: the path of stores that cannot write it atomically
    /// with their change, which record it first (an intent without a change is harmless: it is state-based).
    /// </summary>
    /// <param name="intent">The intent.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The item's version after the call.</returns>
    ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default);

    /// <summary>Leases due items of one migration to one owner.</summary>
    /// <param name="claim">The claim.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The leased items, at most <see cref="OutboxClaim.MaxItems"/>, oldest due first.</returns>
    ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(OutboxClaim claim, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the items still at the version they were claimed at and still leased to their claimer (for an item
    /// claimed by no one, <see cref="OutboxItem.LeaseOwner"/> <see langword="null"/>: leased to no one); releases the
    /// others the claimer still leases (a later write changed them), due at once. An item whose lease passed to another
    /// owner is theirs to complete: a late claimer must never delete the entity's next item, recorded at version 1
    /// again once this one is gone.
    /// </summary>
    /// <param name="items">Items as claimed.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were deleted.</returns>
    ValueTask<int> CompleteAsync(IReadOnlyCollection<OutboxItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a failed attempt of a claimed item and releases it, due again at <paramref name="nextAttemptAt"/>: the
    /// backoff is stored with the item, so the retry rate does not grow with the number of dispatchers.
    /// </summary>
    /// <param name="item">The item as claimed.</param>
    /// <param name="nextAttemptAt">When the item is due again.</param>
    /// <param name="error">What failed, without entity payloads.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Records a last failed attempt of a claimed item and dead-letters it with its error, unless a write came since
    /// the claim (the item's version moved on): then the item stays pending, due as it was, with no attempts, since
    /// what failed was an older state.
    /// </summary>
    /// <param name="item">The item as claimed.</param>
    /// <param name="error">What failed, without entity payloads.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds every item of some entities of one migration, of every kind and state (pending, leased or dead-lettered):
    /// a dispatcher asks, under the entity's lock, whether a write through the other API came after the one it
    /// applies.
    /// </summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="entityIds">The entity ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The items, in no particular order.</returns>
    ValueTask<IReadOnlyList<OutboxItem>> FindAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    );

    /// <summary>Lists the dead letters of one migration, oldest first.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="limit">The most items to list.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The dead-lettered items.</returns>
    ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    );

    /// <summary>Makes dead letters of one migration due again at <paramref name="now"/>, with no attempts.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="entityIds">The entities whose dead letters to replay, or <see langword="null"/> for all.</param>
    /// <param name="now">The caller's clock.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were replayed.</returns>
    ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    );

    /// <summary>Deletes dead letters of one migration on purpose.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="entityIds">The entities whose dead letters to purge, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were deleted.</returns>
    ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    );

    /// <summary>Counts what one migration's outbox holds.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The counts and the oldest pending item's age, by kind.</returns>
    ValueTask<OutboxStatistics> GetStatisticsAsync(string migration, CancellationToken cancellationToken = default);
}
