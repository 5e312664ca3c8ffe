namespace LazyMigrate.Outbox;

/// <summary>
/// Applies one migration's outbox: write-backs to the old store and <see cref="EntityMigrated{TOld, TNew}"/>
/// delivery. <c>AddLazyMigrationDispatcher</c> runs it as a hosted service; this interface runs it by hand (tests, a
/// host without hosted services) and manages its dead letters. Resolve it like the repository: unkeyed for the
/// pair's one migration, keyed by the migration name otherwise.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IMigrationDispatcher<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Gets the migration name.</summary>
    string MigrationName { get; }

    /// <summary>Claims one batch of due items, applies it and completes, retries or dead-letters each item.</summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items the batch held; 0 when nothing was due.</returns>
    ValueTask<int> RunOnceAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies batches until nothing is due now, after the batch this process may be applying in the background:
    /// when it returns, every item due when it was called has been applied, retried later or dead-lettered. The way
    /// for a test to wait for events and write-backs.
    /// </summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were claimed.</returns>
    ValueTask<int> DrainAsync(CancellationToken cancellationToken = default);

    /// <summary>Counts what the outbox holds for this migration.</summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The statistics.</returns>
    /// <exception cref="MigrationStoreException">The outbox failed after its resilience pipeline gave up; its entity
    /// id is <c>(outbox)</c> for a call about no one entity.</exception>
    ValueTask<OutboxStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>Lists this migration's dead letters, oldest first, with their errors.</summary>
    /// <param name="limit">The most items to list.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The dead letters.</returns>
    /// <exception cref="MigrationStoreException">The outbox failed after its resilience pipeline gave up; its entity
    /// id is <c>(outbox)</c> for a call about no one entity.</exception>
    ValueTask<IReadOnlyList<OutboxItem>> GetDeadLettersAsync(
        int limit = 100,
        CancellationToken cancellationToken = default
    );

    /// <summary>Makes dead letters due again with no attempts: all of them, or those of some entities.</summary>
    /// <param name="entityIds">The entities, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were replayed.</returns>
    /// <exception cref="InvalidEntityIdException">An id no store can key on (a NUL character, a lone surrogate),
    /// refused before the outbox is called.</exception>
    /// <exception cref="MigrationStoreException">The outbox failed after its resilience pipeline gave up; its entity
    /// id is <c>(outbox)</c> for a call about no one entity.</exception>
    ValueTask<int> ReplayDeadLettersAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Deletes dead letters on purpose: all of them, or those of some entities.</summary>
    /// <param name="entityIds">The entities, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many items were deleted.</returns>
    /// <exception cref="InvalidEntityIdException">An id no store can key on (a NUL character, a lone surrogate),
    /// refused before the outbox is called.</exception>
    /// <exception cref="MigrationStoreException">The outbox failed after its resilience pipeline gave up; its entity
    /// id is <c>(outbox)</c> for a call about no one entity.</exception>
    ValueTask<int> PurgeDeadLettersAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    );
}
