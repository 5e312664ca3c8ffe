using LazyMigrate.Backfill;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// Backfill checkpoints, leases and quarantine in two tables of a user's context (<see
/// cref="LazyMigrateBackfillCheckpoint"/>, <see cref="LazyMigrateQuarantinedEntity"/>), for any EF Core provider,
/// shared by any number of migrations and instances.
/// </summary>
/// <typeparam name="TContext">The context type, created through <see cref="IDbContextFactory{TContext}"/> for every
/// call; its model maps both tables (<see cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateBackfill"/>).
/// </typeparam>
/// <remarks>
/// <para>
/// Thread-safe, and safe across processes: taking, renewing and releasing the lease and saving a checkpoint are each
/// one <c>UPDATE</c> whose <c>WHERE</c> repeats the guard (the lease is free, lapsed or the caller's; the caller holds
/// it), so two instances never both hold a lease or save over each other; the first lease of a migration inserts its
/// row, and an insert that loses to a concurrent one tries the guarded update again. Every time is the caller's,
/// stored as Unix microseconds, as the EF Core outbox stores them.
/// </para>
/// <para>
/// The quarantine is listed in ordinal id order: on PostgreSQL the query compares ids under the <c>"C"</c> collation,
/// on SQL Server under <c>Latin1_General_BIN2</c>, on SQLite under its default <c>BINARY</c>; on another provider give
/// the id column a binary collation (the listing throws <see cref="InvalidOperationException"/> when the database
/// returns ids out of ordinal order).
/// </para>
/// </remarks>
public sealed class EntityFrameworkCoreBackfillCheckpointStore<TContext> : IBackfillCheckpointStore
    where TContext : DbContext
{
    /// <summary>How many times an insert that lost to a concurrent one is tried again.</summary>
    private const int MaxInsertAttempts = 5;

    private readonly IDbContextFactory<TContext> _contexts;
    private readonly string? _binaryCollation;

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/> class.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <exception cref="InvalidOperationException">The context's model does not map the tables.</exception>
    public EntityFrameworkCoreBackfillCheckpointStore(IDbContextFactory<TContext> contextFactory)
    {
        ArgumentNullException.ThrowIfNull(contextFactory);
        _contexts = contextFactory;
        using TContext context = contextFactory.CreateDbContext();
        foreach (Type mapped in new[] { typeof(LazyMigrateBackfillCheckpoint), typeof(LazyMigrateQuarantinedEntity) })
        {
            if (context.Model.FindEntityType(mapped) is null)
            {
                throw new InvalidOperationException(
                    $"The context {typeof(TContext).Name} does not map {mapped.Name}: "
                        + "call modelBuilder.AddLazyMigrateBackfill() in its OnModelCreating."
                );
            }
        }

        _binaryCollation = context.Database.ProviderName switch
        {
            "Npgsql.EntityFrameworkCore.PostgreSQL" => "C",
            "Microsoft.EntityFrameworkCore.SqlServer" => "Latin1_General_BIN2",
            _ => null,
        };
    }

    /// <inheritdoc/>
    public ValueTask<BackfillCheckpoint?> LoadAsync(string migration, CancellationToken cancellationToken = default)
    {
        Validate(migration);
        return RunAsync(
            "load",
            migration,
            static async (context, m, ct) =>
                ToCheckpoint(
                    await Checkpoints(context, m).AsNoTracking().SingleOrDefaultAsync(ct).ConfigureAwait(false)
                ),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One guarded <c>UPDATE</c> (lease free, lapsed at <paramref name="now"/> or the owner's), then a read of the row;
    /// the first lease of a migration inserts the row.
    /// </remarks>
    public ValueTask<BackfillLeaseResult> TryAcquireAsync(
        string migration,
        string owner,
        DateTimeOffset expiresAt,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        Validate(migration);
        ValidateOwner(owner);
        return RunAsync(
            "acquire",
            (Migration: migration, Owner: owner, Until: Micros(expiresAt), Now: Micros(now)),
            static async (context, s, ct) =>
            {
                for (int attempt = 1; ; attempt++)
                {
                    context.ChangeTracker.Clear();
                    int taken = await Checkpoints(context, s.Migration)
                        .Where(c =>
                            c.LeaseOwner == null
                            || c.LeaseOwner == s.Owner
                            || c.LeaseExpiresAtMicroseconds == null
                            || c.LeaseExpiresAtMicroseconds <= s.Now
                        )
                        .ExecuteUpdateAsync(
                            u =>
                                u.SetProperty(c => c.LeaseOwner, s.Owner)
                                    .SetProperty(c => c.LeaseExpiresAtMicroseconds, s.Until),
                            ct
                        )
                        .ConfigureAwait(false);
                    LazyMigrateBackfillCheckpoint? row = await Checkpoints(context, s.Migration)
                        .AsNoTracking()
                        .SingleOrDefaultAsync(ct)
                        .ConfigureAwait(false);
                    if (taken == 1)
                    {
                        return new BackfillLeaseResult(true, ToCheckpoint(row), s.Owner);
                    }

                    if (row is not null)
                    {
                        return new BackfillLeaseResult(false, ToCheckpoint(row), row.LeaseOwner);
                    }

                    context.Add(
                        new LazyMigrateBackfillCheckpoint
                        {
                            Migration = s.Migration,
                            LeaseOwner = s.Owner,
                            LeaseExpiresAtMicroseconds = s.Until,
                        }
                    );
                    try
                    {
                        await context.SaveChangesAsync(ct).ConfigureAwait(false);
                        return new BackfillLeaseResult(true, null, s.Owner);
                    }
                    catch (DbUpdateException exception)
                        when (!StoreFailures.IsTransient(exception) && attempt < MaxInsertAttempts)
                    {
                        // Another instance inserted the row first: its lease is guarded like any other.
                    }
                }
            },
            cancellationToken
        );
    }

    /// <inheritdoc/>
    /// <remarks>One <c>UPDATE</c> of the checkpoint and the lease's end, where the owner holds the lease.</remarks>
    /// <exception cref="ArgumentException">The cursor is longer than the mapping keeps.</exception>
    public ValueTask<bool> SaveAsync(
        BackfillCheckpoint checkpoint,
        string owner,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Validate(checkpoint.Migration);
        ValidateOwner(owner);
        if (checkpoint.Cursor is { Length: > LazyMigrateBackfillCheckpoint.MaxCursorLength } cursor)
        {
            throw new ArgumentException(
                $"The cursor '{cursor}' is {cursor.Length} characters long; the EF Core backfill checkpoint store "
                    + $"keeps cursors of at most {LazyMigrateBackfillCheckpoint.MaxCursorLength}.",
                nameof(checkpoint)
            );
        }

        return RunAsync(
            "save",
            (Checkpoint: checkpoint, Owner: owner, Until: Micros(expiresAt)),
            static async (context, s, ct) =>
            {
                BackfillCheckpoint c = s.Checkpoint;
                BackfillCounts n = c.Counts;
                long updatedAt = Micros(c.UpdatedAt);
                int saved = await Checkpoints(context, c.Migration)
                    .Where(r => r.LeaseOwner == s.Owner)
                    .ExecuteUpdateAsync(
                        u =>
                            u.SetProperty(r => r.Cursor, c.Cursor)
                                .SetProperty(r => r.Scanned, n.Scanned)
                                .SetProperty(r => r.Migrated, n.Migrated)
                                .SetProperty(r => r.AlreadyPresent, n.AlreadyPresent)
                                .SetProperty(r => r.Vanished, n.Vanished)
                                .SetProperty(r => r.Quarantined, n.Quarantined)
                                .SetProperty(r => r.IsComplete, c.IsComplete)
                                .SetProperty(r => r.UpdatedAtMicroseconds, updatedAt)
                                .SetProperty(r => r.LeaseExpiresAtMicroseconds, s.Until),
                        ct
                    )
                    .ConfigureAwait(false);
                return saved == 1;
            },
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(string migration, string owner, CancellationToken cancellationToken = default)
    {
        Validate(migration);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await RunAsync(
                "release",
                (Migration: migration, Owner: owner),
                static (context, s, ct) =>
                    Checkpoints(context, s.Migration)
                        .Where(r => r.LeaseOwner == s.Owner)
                        .ExecuteUpdateAsync(
                            u =>
                                u.SetProperty(r => r.LeaseOwner, (string?)null)
                                    .SetProperty(r => r.LeaseExpiresAtMicroseconds, (long?)null),
                            ct
                        ),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One transaction: per entity a guarded <c>UPDATE</c> that adds its attempts, then one <c>INSERT</c> of those not
    /// quarantined yet; a transaction whose insert loses to a concurrent one runs again.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">An id is longer than the table keeps.</exception>
    public async ValueTask QuarantineAsync(
        string migration,
        IReadOnlyCollection<QuarantinedEntity> entities,
        CancellationToken cancellationToken = default
    )
    {
        Validate(migration);
        ArgumentNullException.ThrowIfNull(entities);
        QuarantinedEntity[] ordered = [.. entities.OrderBy(e => e.EntityId, StringComparer.Ordinal)];
        foreach (QuarantinedEntity entity in ordered)
        {
            ArgumentNullException.ThrowIfNull(entity, nameof(entities));
            if (entity.EntityId.Length > LazyMigrateQuarantinedEntity.MaxEntityIdLength)
            {
                throw new InvalidEntityIdException(
                    entity.EntityId,
                    $"it is {entity.EntityId.Length} characters long; "
                        + $"the quarantine keeps ids of at most {LazyMigrateQuarantinedEntity.MaxEntityIdLength}"
                );
            }
        }

        if (ordered.Length == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await RunInTransactionAsync(
                        "quarantine",
                        (Migration: migration, Entities: ordered),
                        static async (context, s, ct) =>
                        {
                            foreach (QuarantinedEntity entity in s.Entities)
                            {
                                long at = Micros(entity.QuarantinedAt);
                                int more = entity.Attempts;
                                int updated = await Quarantine(context, s.Migration)
                                    .Where(q => q.EntityId == entity.EntityId)
                                    .ExecuteUpdateAsync(
                                        u =>
                                            u.SetProperty(q => q.Error, entity.Error)
                                                .SetProperty(q => q.QuarantinedAtMicroseconds, at)
                                                .SetProperty(q => q.Attempts, q => q.Attempts + more),
                                        ct
                                    )
                                    .ConfigureAwait(false);
                                if (updated == 0)
                                {
                                    context.Add(
                                        new LazyMigrateQuarantinedEntity
                                        {
                                            Migration = s.Migration,
                                            EntityId = entity.EntityId,
                                            Error = entity.Error,
                                            QuarantinedAtMicroseconds = at,
                                            Attempts = entity.Attempts,
                                        }
                                    );
                                }
                            }

                            await context.SaveChangesAsync(ct).ConfigureAwait(false);
                            return 0;
                        },
                        cancellationToken
                    )
                    .ConfigureAwait(false);
                return;
            }
            catch (DbUpdateException exception)
                when (!StoreFailures.IsTransient(exception) && attempt < MaxInsertAttempts)
            {
                // A concurrent quarantine inserted one of the entities first: its row is updated next time.
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The database returned ids out of ordinal order: give the id column
    /// a binary collation.</exception>
    public ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string migration,
        string? afterId,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        Validate(migration);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return RunAsync(
            "list-quarantined",
            (Migration: migration, AfterId: afterId, Limit: limit, Collation: _binaryCollation),
            static async (context, s, ct) =>
            {
                IQueryable<LazyMigrateQuarantinedEntity> query = Quarantine(context, s.Migration).AsNoTracking();
                List<LazyMigrateQuarantinedEntity> rows;
                if (s.Collation is { } collation)
                {
                    if (s.AfterId is { } after)
                    {
                        query = query.Where(q =>
                            string.Compare(EF.Functions.Collate(q.EntityId, collation), after) > 0
                        );
                    }

                    query = query.OrderBy(q => EF.Functions.Collate(q.EntityId, collation));
                }
                else
                {
                    if (s.AfterId is { } after)
                    {
                        query = query.Where(q => string.Compare(q.EntityId, after) > 0);
                    }

                    query = query.OrderBy(q => q.EntityId);
                }

                rows = await query.Take(s.Limit).ToListAsync(ct).ConfigureAwait(false);
                for (int i = 1; i < rows.Count; i++)
                {
                    if (string.CompareOrdinal(rows[i - 1].EntityId, rows[i].EntityId) >= 0)
                    {
                        throw new InvalidOperationException(
                            $"Entity Framework Core backfill checkpoint store: the database ordered quarantined id "
                                + $"'{rows[i].EntityId}' after '{rows[i - 1].EntityId}', which is not ordinal order. "
                                + "Give the quarantine's EntityId column a binary collation."
                        );
                    }
                }

                return (IReadOnlyList<QuarantinedEntity>)
                    rows.ConvertAll(q => new QuarantinedEntity(
                        q.EntityId,
                        q.Error,
                        Time(q.QuarantinedAtMicroseconds),
                        q.Attempts
                    ));
            },
            cancellationToken
        );
    }

    /// <inheritdoc/>
    /// <remarks>One <c>DELETE ... WHERE entity id IN (ids)</c>.</remarks>
    public async ValueTask ClearQuarantinedAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        Validate(migration);
        ArgumentNullException.ThrowIfNull(entityIds);
        if (entityIds.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        await RunAsync(
                "clear-quarantined",
                (Migration: migration, Ids: entityIds.ToArray()),
                static (context, s, ct) =>
                    Quarantine(context, s.Migration).Where(q => s.Ids.Contains(q.EntityId)).ExecuteDeleteAsync(ct),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    private static long Micros(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerMicrosecond;

    private static DateTimeOffset Time(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * TicksPerMicrosecond);

    private static IQueryable<LazyMigrateBackfillCheckpoint> Checkpoints(DbContext context, string migration) =>
        context.Set<LazyMigrateBackfillCheckpoint>().Where(c => c.Migration == migration);

    private static IQueryable<LazyMigrateQuarantinedEntity> Quarantine(DbContext context, string migration) =>
        context.Set<LazyMigrateQuarantinedEntity>().Where(q => q.Migration == migration);

    private static BackfillCheckpoint? ToCheckpoint(LazyMigrateBackfillCheckpoint? row) =>
        row?.UpdatedAtMicroseconds is { } updatedAt
            ? new BackfillCheckpoint
            {
                Migration = row.Migration,
                Cursor = row.Cursor,
                Counts = new BackfillCounts
                {
                    Scanned = row.Scanned,
                    Migrated = row.Migrated,
                    AlreadyPresent = row.AlreadyPresent,
                    Vanished = row.Vanished,
                    Quarantined = row.Quarantined,
                },
                IsComplete = row.IsComplete,
                UpdatedAt = Time(updatedAt),
            }
            : null;

    private static void Validate(string migration)
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        if (migration.Length > LazyMigrateBackfillCheckpoint.MaxMigrationLength)
        {
            throw new ArgumentException(
                $"The migration name '{migration}' is {migration.Length} characters long; the EF Core backfill "
                    + $"checkpoint store keeps names of at most {LazyMigrateBackfillCheckpoint.MaxMigrationLength}.",
                nameof(migration)
            );
        }
    }

    private static void ValidateOwner(string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (owner.Length > LazyMigrateBackfillCheckpoint.MaxLeaseOwnerLength)
        {
            throw new ArgumentException(
                $"The lease owner '{owner}' is {owner.Length} characters long; the EF Core backfill checkpoint store "
                    + $"keeps owners of at most {LazyMigrateBackfillCheckpoint.MaxLeaseOwnerLength}.",
                nameof(owner)
            );
        }
    }

    /// <summary>
    /// Runs one call on a fresh context: a cancelled token throws before anything is read or written, and a transient
    /// failure surfaces as <see cref="TransientStoreException"/>.
    /// </summary>
    private async ValueTask<TResult> RunAsync<TState, TResult>(
        string operation,
        TState state,
        Func<TContext, TState, CancellationToken, Task<TResult>> call,
        CancellationToken cancellationToken
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            TContext context = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                return await call(context, state, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.BackfillTransient(operation, exception);
        }
    }

    /// <summary>As <see cref="RunAsync"/>, in one transaction through the context's execution strategy.</summary>
    private async ValueTask<TResult> RunInTransactionAsync<TState, TResult>(
        string operation,
        TState state,
        Func<TContext, TState, CancellationToken, Task<TResult>> work,
        CancellationToken cancellationToken
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return await Transactions
                .RunAsync(_contexts, state, work, isolationLevel: null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.BackfillTransient(operation, exception);
        }
    }
}
