namespace LazyMigrate.Backfill;

/// <summary>
/// Keeps the backfills' checkpoints, their lease and their quarantine. Every instance of a service shares one, so that
/// a backfill resumes where any instance left it and one instance at a time advances it.
/// </summary>
/// <remarks>
/// <para>A lease is held by an owner until it expires. <see cref="TryAcquireAsync"/> takes a lease that is free,
/// expired or the owner's own; <see cref="SaveAsync"/> saves only while the owner holds it, and renews it. Times come
/// from the callers' clocks, which must agree to well within a lease.</para>
/// <para>A store never loses a saved checkpoint: there is no call that clears one, so no resume or dry run can destroy
/// earlier progress. Adapters implement it as a table (LazyMigrate.PostgreSql, LazyMigrate.EntityFrameworkCore); the
/// TestKit's conformance suite checks one.</para>
/// </remarks>
public interface IBackfillCheckpointStore
{
    /// <summary>Reads a checkpoint without taking the lease.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The checkpoint, or <see langword="null"/> when none was saved.</returns>
    ValueTask<BackfillCheckpoint?> LoadAsync(string migration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes or renews the lease of a migration's backfill, if it is free, expired or already the owner's.
    /// </summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="owner">Who takes the lease: one id per runner and process.</param>
    /// <param name="expiresAt">When the lease lapses unless renewed.</param>
    /// <param name="now">The caller's time, to tell an expired lease.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>
    /// Whether the owner holds the lease now, and the checkpoint (<see langword="null"/> when none was saved).
    /// </returns>
    ValueTask<BackfillLeaseResult> TryAcquireAsync(
        string migration,
        string owner,
        DateTimeOffset expiresAt,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    );

    /// <summary>Saves a checkpoint and renews the lease, only if the owner still holds the lease.</summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="owner">The lease owner.</param>
    /// <param name="expiresAt">When the renewed lease lapses.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="false"/> when another owner holds the lease: nothing was saved.</returns>
    ValueTask<bool> SaveAsync(
        BackfillCheckpoint checkpoint,
        string owner,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default
    );

    /// <summary>Gives the lease up, if the owner holds it, so another instance can take it at once.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="owner">The lease owner.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask ReleaseAsync(string migration, string owner, CancellationToken cancellationToken = default);

    /// <summary>Quarantines entities, or updates their error and attempts if they are quarantined already.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="entities">The entities and their errors.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask QuarantineAsync(
        string migration,
        IReadOnlyCollection<QuarantinedEntity> entities,
        CancellationToken cancellationToken = default
    );

    /// <summary>Lists quarantined entities in ordinal id order.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="afterId">The last id already listed, or <see langword="null"/>.</param>
    /// <param name="limit">The most entities to list.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The quarantined entities.</returns>
    ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string migration,
        string? afterId,
        int limit,
        CancellationToken cancellationToken = default
    );

    /// <summary>Takes entities out of the quarantine; ids it does not hold are ignored.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="entityIds">The entity ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask ClearQuarantinedAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    );
}

/// <summary>What <see cref="IBackfillCheckpointStore.TryAcquireAsync"/> found.</summary>
/// <param name="Acquired">Whether the caller holds the lease now.</param>
/// <param name="Checkpoint">The checkpoint, or <see langword="null"/> when none was saved.</param>
/// <param name="Holder">The owner holding the lease when the caller did not get it.</param>
public readonly record struct BackfillLeaseResult(bool Acquired, BackfillCheckpoint? Checkpoint, string? Holder);
