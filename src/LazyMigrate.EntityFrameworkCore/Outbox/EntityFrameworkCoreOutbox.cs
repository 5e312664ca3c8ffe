using System.Data;
using System.Linq.Expressions;
using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// A durable outbox in the <see cref="LazyMigrateOutboxItem"/> table of a user's context, for any EF Core provider,
/// shared by any number of migrations and instances. An <see cref="EntityFrameworkCoreOutboxNewStore{TContext, TEntity,
/// TKey}"/> over the same context writes each intent in the transaction of its change.
/// </summary>
/// <typeparam name="TContext">The context type, created through <see cref="IDbContextFactory{TContext}"/> for every
/// call; its model maps the table (<see cref="LazyMigrateModelBuilderExtensions.AddLazyMigrateOutbox"/>).</typeparam>
/// <remarks>
/// <para>
/// Thread-safe. Every time is the caller's, stored as Unix microseconds. How claims stay apart: on PostgreSQL one
/// statement in a read committed transaction leases the due rows it locks with <c>FOR UPDATE SKIP LOCKED</c>, as
/// LazyMigrate.PostgreSql's outbox does; on every other provider the claim reads the due items, then leases each with
/// an <c>UPDATE</c> whose condition repeats the test (not dead-lettered, due, lease free or ended, version unchanged),
/// in one transaction: an item is this claim's only if its update changed the row, so two claims never lease one item
/// (on SQLite, whose writers take the database in turn, the transaction also makes the claim one step). Completion
/// deletes each item only at its claimed version and releases the others the claimer still leases. See
/// docs/entity-framework-core.md.
/// </para>
/// </remarks>
public sealed class EntityFrameworkCoreOutbox<TContext> : IMigrationOutbox
    where TContext : DbContext
{
    /// <summary>Every kind, for lookups by entity over the primary key (migration, kind, entity id).</summary>
    private static readonly OutboxItemKind[] Kinds = Enum.GetValues<OutboxItemKind>();

    private readonly OutboxTable _table;
    private readonly int _maxRecordAttempts;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="EntityFrameworkCoreOutbox{TContext}"/> class.</summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The context's model does not map the outbox table.</exception>
    public EntityFrameworkCoreOutbox(
        IDbContextFactory<TContext> contextFactory,
        EntityFrameworkCoreOutboxOptions? options = null,
        ILogger? logger = null
    )
    {
        ArgumentNullException.ThrowIfNull(contextFactory);
        options ??= new EntityFrameworkCoreOutboxOptions();
        List<string> problems = OutboxOptionsChecks.Problems(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        Contexts = contextFactory;
        _maxRecordAttempts = options.MaxRecordAttempts;
        _logger = logger ?? NullLogger.Instance;
        using TContext context = contextFactory.CreateDbContext();
        _table = OutboxTable.Of(context);
    }

    /// <summary>Gets the table's name as the model maps it, schema-qualified when it has a schema.</summary>
    public string TableName => _table.DisplayName;

    internal IDbContextFactory<TContext> Contexts { get; }

    /// <inheritdoc/>
    /// <remarks>One transaction: an <c>UPDATE</c> of the item that exists (a write-back's version moves on), else an
    /// <c>INSERT</c>.</remarks>
    /// <exception cref="InvalidEntityIdException">The id is longer than the table keeps.</exception>
    public ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intent);
        OutboxRows.Validate(intent.Migration, intent.EntityId);
        return RunAsync(
            "record",
            (Outbox: this, Intent: intent),
            static (s, ct) => s.Outbox.RecordOnceOrMoreAsync(s.Intent, ct),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(claim);
        OutboxRows.ValidateMigration(claim.Migration);
        if (claim.Owner.Length > LazyMigrateOutboxItem.MaxLeaseOwnerLength)
        {
            throw new ArgumentException(
                $"The dispatcher id '{claim.Owner}' is {claim.Owner.Length} characters long; "
                    + $"the EF Core outbox keeps lease owners of at most {LazyMigrateOutboxItem.MaxLeaseOwnerLength}.",
                nameof(claim)
            );
        }

        return RunAsync(
            "claim",
            (Outbox: this, Claim: claim),
            static (s, ct) =>
                s.Outbox._table.PostgreSqlClaim is { } sql
                    ? s.Outbox.ClaimOnPostgreSqlAsync(sql, s.Claim, ct)
                    : s.Outbox.ClaimItemByItemAsync(s.Claim, ct),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    /// <remarks>One transaction for the batch: a <c>DELETE</c> at the claimed version per item, and for an item a
    /// later write changed, an <c>UPDATE</c> that releases it if the claimer still leases it.</remarks>
    public ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        if (items.Count == 0)
        {
            return new ValueTask<int>(0);
        }

        // In key order: two completions of overlapping batches take the rows in the same order, so never wait on each
        // other in a cycle.
        OutboxItem[] ordered =
        [
            .. items
                .OrderBy(i => i.Migration, StringComparer.Ordinal)
                .ThenBy(i => i.Kind)
                .ThenBy(i => i.EntityId, StringComparer.Ordinal),
        ];
        return RunAsync(
            "complete",
            (Outbox: this, Items: ordered),
            static (s, ct) =>
                Transactions.RunAsync(s.Outbox.Contexts, s.Items, CompleteAsync, isolationLevel: null, ct),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(error);
        return FailAsync("reschedule", item, error, OutboxRows.Micros(nextAttemptAt), cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(error);
        return FailAsync("dead-letter", item, error, nextAttemptAt: null, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One query over the primary key, every kind named so that its index serves the lookup.</remarks>
    public ValueTask<IReadOnlyList<OutboxItem>> FindAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        OutboxRows.ValidateMigration(migration);
        ArgumentNullException.ThrowIfNull(entityIds);
        if (entityIds.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<IReadOnlyList<OutboxItem>>([]);
        }

        return RunAsync(
            "find",
            (Outbox: this, Migration: migration, Ids: entityIds.ToArray()),
            static async (s, ct) =>
            {
                TContext context = await s.Outbox.Contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
                await using (context.ConfigureAwait(false))
                {
                    List<LazyMigrateOutboxItem> rows = await context
                        .Set<LazyMigrateOutboxItem>()
                        .AsNoTracking()
                        .Where(i => i.Migration == s.Migration && Kinds.Contains(i.Kind) && s.Ids.Contains(i.EntityId))
                        .ToListAsync(ct)
                        .ConfigureAwait(false);
                    return (IReadOnlyList<OutboxItem>)rows.ConvertAll(OutboxRows.ToItem);
                }
            },
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        OutboxRows.ValidateMigration(migration);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync(
            "list-dead-letters",
            (Outbox: this, Migration: migration, Limit: limit),
            static async (s, ct) =>
            {
                TContext context = await s.Outbox.Contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
                await using (context.ConfigureAwait(false))
                {
                    List<LazyMigrateOutboxItem> rows = await DeadLetters(context, s.Migration, null)
                        .AsNoTracking()
                        .OrderBy(i => i.RecordedAtMicroseconds)
                        .ThenBy(i => i.EntityId)
                        .Take(s.Limit)
                        .ToListAsync(ct)
                        .ConfigureAwait(false);
                    return (IReadOnlyList<OutboxItem>)rows.ConvertAll(OutboxRows.ToItem);
                }
            },
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        OutboxRows.ValidateMigration(migration);
        long due = OutboxRows.Micros(now);
        return OnDeadLettersAsync(
            "replay-dead-letters",
            migration,
            entityIds,
            (dead, ct) =>
                dead.ExecuteUpdateAsync(
                    s =>
                        s.SetProperty(i => i.IsDeadLettered, false)
                            .SetProperty(i => i.Attempts, 0)
                            .SetProperty(i => i.NextAttemptAtMicroseconds, due),
                    ct
                ),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    )
    {
        OutboxRows.ValidateMigration(migration);
        return OnDeadLettersAsync(
            "purge-dead-letters",
            migration,
            entityIds,
            static (dead, ct) => dead.ExecuteDeleteAsync(ct),
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask<OutboxStatistics> GetStatisticsAsync(
        string migration,
        CancellationToken cancellationToken = default
    )
    {
        OutboxRows.ValidateMigration(migration);
        return RunAsync(
            "statistics",
            (Outbox: this, Migration: migration),
            static async (s, ct) =>
            {
                TContext context = await s.Outbox.Contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
                await using (context.ConfigureAwait(false))
                {
                    var groups = await context
                        .Set<LazyMigrateOutboxItem>()
                        .Where(i => i.Migration == s.Migration)
                        .GroupBy(i => new { i.Kind, i.IsDeadLettered })
                        .Select(g => new
                        {
                            g.Key.Kind,
                            g.Key.IsDeadLettered,
                            Count = g.LongCount(),
                            Oldest = g.Min(i => i.RecordedAtMicroseconds),
                        })
                        .ToListAsync(ct)
                        .ConfigureAwait(false);
                    var pending = new Dictionary<OutboxItemKind, long>();
                    var oldest = new Dictionary<OutboxItemKind, DateTimeOffset>();
                    var dead = new Dictionary<OutboxItemKind, long>();
                    foreach (var group in groups)
                    {
                        if (group.IsDeadLettered)
                        {
                            dead[group.Kind] = group.Count;
                        }
                        else
                        {
                            pending[group.Kind] = group.Count;
                            oldest[group.Kind] = OutboxRows.Time(group.Oldest);
                        }
                    }

                    return new OutboxStatistics(pending, oldest, dead);
                }
            },
            cancellationToken
        );
    }

    /// <summary>The items of one migration that a claim at <paramref name="now"/> may lease.</summary>
    private static Expression<Func<LazyMigrateOutboxItem, bool>> Due(string migration, long now) =>
        i =>
            i.Migration == migration
            && !i.IsDeadLettered
            && i.NextAttemptAtMicroseconds <= now
            && (i.LeaseExpiresAtMicroseconds == null || i.LeaseExpiresAtMicroseconds <= now);

    private static IQueryable<LazyMigrateOutboxItem> Row(DbContext context, OutboxItem item) =>
        OutboxRecords.Of(context, item.Migration, item.Kind, item.EntityId);

    private static IQueryable<LazyMigrateOutboxItem> DeadLetters(
        DbContext context,
        string migration,
        IReadOnlyCollection<string>? entityIds
    )
    {
        IQueryable<LazyMigrateOutboxItem> dead = context
            .Set<LazyMigrateOutboxItem>()
            .Where(i => i.Migration == migration && i.IsDeadLettered);
        if (entityIds is null)
        {
            return dead;
        }

        string[] ids = [.. entityIds];
        return dead.Where(i => ids.Contains(i.EntityId));
    }

    private static async Task<int> CompleteAsync(TContext context, OutboxItem[] items, CancellationToken ct)
    {
        int deleted = 0;
        foreach (OutboxItem item in items)
        {
            long version = item.Version;
            string? holder = item.LeaseOwner;

            // Only the lease holder completes (a late owner could delete the entity's next item, at version 1 again).
            int removed = await Row(context, item)
                .Where(i => i.Version == version && i.LeaseOwner == holder)
                .ExecuteDeleteAsync(ct)
                .ConfigureAwait(false);
            deleted += removed;

            // Not deleted: a later write changed it (or it is gone). Due at once for whoever claims next, if the lease
            // is still the claimer's; a lease that passed to another owner is theirs.
            if (removed == 0 && item.LeaseOwner is { } owner)
            {
                await Row(context, item)
                    .Where(i => i.LeaseOwner == owner)
                    .ExecuteUpdateAsync(
                        s =>
                            s.SetProperty(i => i.LeaseOwner, (string?)null)
                                .SetProperty(i => i.LeaseExpiresAtMicroseconds, (long?)null),
                        ct
                    )
                    .ConfigureAwait(false);
            }
        }

        return deleted;
    }

    /// <summary>Records an intent, again while a concurrent record inserting the same item wins the insert.</summary>
    private async Task<long> RecordOnceOrMoreAsync(OutboxIntent intent, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await Transactions
                    .RunAsync(
                        Contexts,
                        intent,
                        static async (context, i, ct) =>
                        {
                            long version = await OutboxRecords.StageAsync(context, i, ct).ConfigureAwait(false);
                            await context.SaveChangesAsync(ct).ConfigureAwait(false);
                            return version;
                        },
                        isolationLevel: null,
                        cancellationToken
                    )
                    .ConfigureAwait(false);
            }
            catch (DbUpdateException exception)
                when (!StoreFailures.IsTransient(exception) && attempt < _maxRecordAttempts)
            {
                Log.OutboxRecordRaced(
                    _logger,
                    TableName,
                    intent.Migration,
                    intent.Kind,
                    intent.EntityId,
                    attempt,
                    _maxRecordAttempts
                );
            }
        }
    }

    /// <summary>One statement, in a read committed transaction of its own whatever the database's default: SKIP
    /// LOCKED and the re-check of a row another claim leased meanwhile keep claims apart, where a stricter level would
    /// fail them instead.</summary>
    private Task<IReadOnlyList<OutboxItem>> ClaimOnPostgreSqlAsync(
        string sql,
        OutboxClaim claim,
        CancellationToken cancellationToken
    ) =>
        Transactions.RunAsync(
            Contexts,
            (Sql: sql, Claim: claim),
            static async (context, s, ct) =>
            {
                List<LazyMigrateOutboxItem> rows = await context
                    .Set<LazyMigrateOutboxItem>()
                    .FromSqlRaw(
                        s.Sql,
                        s.Claim.Migration,
                        s.Claim.Owner,
                        OutboxRows.Micros(s.Claim.Now),
                        OutboxRows.Micros(s.Claim.LeaseUntil),
                        s.Claim.MaxItems
                    )
                    .AsNoTracking()
                    .ToListAsync(ct)
                    .ConfigureAwait(false);
                return (IReadOnlyList<OutboxItem>)rows.ConvertAll(OutboxRows.ToItem);
            },
            IsolationLevel.ReadCommitted,
            cancellationToken
        );

    /// <summary>
    /// Reads the due items, then leases each by an update that repeats the test, in one transaction: an item whose
    /// update changed no row went to another claim (or a write moved its version on, and it waits for the next claim).
    /// </summary>
    private Task<IReadOnlyList<OutboxItem>> ClaimItemByItemAsync(OutboxClaim claim, CancellationToken cancellationToken)
    {
        return Transactions.RunAsync(Contexts, claim, ClaimAsync, isolationLevel: null, cancellationToken);

        static async Task<IReadOnlyList<OutboxItem>> ClaimAsync(
            TContext context,
            OutboxClaim claim,
            CancellationToken ct
        )
        {
            long now = OutboxRows.Micros(claim.Now);
            long until = OutboxRows.Micros(claim.LeaseUntil);
            string owner = claim.Owner;
            Expression<Func<LazyMigrateOutboxItem, bool>> due = Due(claim.Migration, now);
            List<LazyMigrateOutboxItem> candidates = await context
                .Set<LazyMigrateOutboxItem>()
                .AsNoTracking()
                .Where(due)
                .OrderBy(i => i.NextAttemptAtMicroseconds)
                .Take(claim.MaxItems)
                .ToListAsync(ct)
                .ConfigureAwait(false);
            var claimed = new List<OutboxItem>(candidates.Count);
            foreach (LazyMigrateOutboxItem candidate in candidates)
            {
                long version = candidate.Version;
                int leased = await OutboxRecords
                    .Of(context, candidate.Migration, candidate.Kind, candidate.EntityId)
                    .Where(due)
                    .Where(i => i.Version == version)
                    .ExecuteUpdateAsync(
                        s =>
                            s.SetProperty(i => i.LeaseOwner, owner)
                                .SetProperty(i => i.LeaseExpiresAtMicroseconds, until),
                        ct
                    )
                    .ConfigureAwait(false);
                if (leased == 1)
                {
                    candidate.LeaseOwner = owner;
                    candidate.LeaseExpiresAtMicroseconds = until;
                    claimed.Add(OutboxRows.ToItem(candidate));
                }
            }

            return claimed;
        }
    }

    /// <summary>
    /// A failed attempt, settled only by the lease holder (an item no one holds, as listed or released, is no one's):
    /// due again at <paramref name="nextAttemptAt"/>, or dead-lettered when it is <see langword="null"/>.
    /// </summary>
    private ValueTask FailAsync(
        string operation,
        OutboxItem item,
        string error,
        long? nextAttemptAt,
        CancellationToken cancellationToken
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (item.LeaseOwner is not { } owner)
        {
            return default;
        }

        return new ValueTask(
            RunAsync(
                    operation,
                    (Outbox: this, Item: item, Owner: owner, Error: error, Next: nextAttemptAt),
                    static async (s, ct) =>
                    {
                        TContext context = await s.Outbox.Contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
                        await using (context.ConfigureAwait(false))
                        {
                            IQueryable<LazyMigrateOutboxItem> leased = Row(context, s.Item)
                                .Where(i => i.LeaseOwner == s.Owner);
                            string error = s.Error;
                            long claimed = s.Item.Version;
                            return s.Next is { } next
                                ? await leased
                                    .ExecuteUpdateAsync(
                                        u =>
                                            u.SetProperty(i => i.Attempts, i => i.Attempts + 1)
                                                .SetProperty(i => i.LastError, error)
                                                .SetProperty(i => i.NextAttemptAtMicroseconds, next)
                                                .SetProperty(i => i.LeaseOwner, (string?)null)
                                                .SetProperty(i => i.LeaseExpiresAtMicroseconds, (long?)null),
                                        ct
                                    )
                                    .ConfigureAwait(false)
                                : await leased
                                    .ExecuteUpdateAsync(
                                        u =>
                                            // A write since the claim (the version moved on) is a new chance.
                                            u.SetProperty(
                                                    i => i.Attempts,
                                                    i => i.Version == claimed ? i.Attempts + 1 : 0
                                                )
                                                .SetProperty(i => i.LastError, error)
                                                .SetProperty(i => i.IsDeadLettered, i => i.Version == claimed)
                                                .SetProperty(i => i.LeaseOwner, (string?)null)
                                                .SetProperty(i => i.LeaseExpiresAtMicroseconds, (long?)null),
                                        ct
                                    )
                                    .ConfigureAwait(false);
                        }
                    },
                    cancellationToken
                )
                .AsTask()
        );
    }

    private ValueTask<int> OnDeadLettersAsync(
        string operation,
        string migration,
        IReadOnlyCollection<string>? entityIds,
        Func<IQueryable<LazyMigrateOutboxItem>, CancellationToken, Task<int>> change,
        CancellationToken cancellationToken
    ) =>
        RunAsync(
            operation,
            (Outbox: this, Migration: migration, Ids: entityIds, Change: change),
            static async (s, ct) =>
            {
                TContext context = await s.Outbox.Contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
                await using (context.ConfigureAwait(false))
                {
                    return await s.Change(DeadLetters(context, s.Migration, s.Ids), ct).ConfigureAwait(false);
                }
            },
            cancellationToken
        );

    /// <summary>
    /// Runs one call: a cancelled token throws before anything is read or written, and a transient failure surfaces
    /// as <see cref="TransientStoreException"/> for the core's pipeline to retry.
    /// </summary>
    private static async ValueTask<TResult> RunAsync<TState, TResult>(
        string operation,
        TState state,
        Func<TState, CancellationToken, Task<TResult>> call,
        CancellationToken cancellationToken
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return await call(state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.OutboxTransient(operation, exception);
        }
    }
}
