using System.Globalization;
using System.Runtime.CompilerServices;
using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Records the ids of the <typeparamref name="TOld"/> rows a legacy context's <c>SaveChanges</c> inserts, updates or
/// deletes as forward sync items: in the save's own transaction when the context maps LazyMigrate's outbox (the outbox
/// lives in the legacy database), otherwise through <see cref="IOldStoreChangeRecorder{TOld, TNew}"/> once the save
/// committed.
/// </summary>
/// <remarks>
/// Saves of LazyMigrate's own contexts (<see cref="OwnContexts"/>: the old store's write-backs) are ignored. Bulk
/// <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> calls bypass <c>SaveChanges</c>: legacy code that makes them records the
/// ids itself.
/// </remarks>
internal sealed class ForwardSyncInterceptor<TOld, TNew>(
    IServiceProvider services,
    string? migration,
    Func<object, string>? formatKey
) : SaveChangesInterceptor
    where TOld : class
    where TNew : class
{
    private readonly ConditionalWeakTable<DbContext, PendingSave> _pending = [];

    private IOldStoreChangeRecorder<TOld, TNew> Recorder =>
        migration is null
            ? services.GetRequiredService<IOldStoreChangeRecorder<TOld, TNew>>()
            : services.GetRequiredKeyedService<IOldStoreChangeRecorder<TOld, TNew>>(migration);

    public override InterceptionResult<int> SavingChanges(
        DbContextEventData eventData,
        InterceptionResult<int> result
    ) => SavingChangesAsync(eventData, result).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData,
        InterceptionResult<int> result,
        CancellationToken cancellationToken = default
    )
    {
        if (eventData.Context is not { } context || OwnContexts.IsOwn(context))
        {
            return result;
        }

        List<EntityEntry<TOld>> changed =
        [
            .. context
                .ChangeTracker.Entries<TOld>()
                .Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted),
        ];
        if (changed.Count == 0)
        {
            return result;
        }

        var pending = new PendingSave(
            [.. changed.Where(e => !HasKnownKey(e))],
            [.. changed.Where(HasKnownKey).Select(IdOf)]
        );
        _pending.AddOrUpdate(context, pending);
        if (context.Model.FindEntityType(typeof(LazyMigrateOutboxItem)) is null || pending.KeyedBySave.Count > 0)
        {
            return result;
        }

        // The intents are written by this save, in its transaction: one begun here unless the caller has one.
        if (context.Database.CurrentTransaction is null)
        {
            pending.Transaction = await context.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        }

        string name = Recorder.MigrationName;
        DateTimeOffset now = (services.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        foreach (string id in pending.KnownIds.Distinct(StringComparer.Ordinal))
        {
            var intent = new OutboxIntent(name, OutboxItemKind.ForwardSync, id, null, now);
            await OutboxRecords.StageAsync(context, intent, cancellationToken).ConfigureAwait(false);
        }

        pending.RecordedInSave = true;
        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result) =>
        SavedChangesAsync(eventData, result).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> SavedChangesAsync(
        SaveChangesCompletedEventData eventData,
        int result,
        CancellationToken cancellationToken = default
    )
    {
        if (eventData.Context is not { } context || !_pending.TryGetValue(context, out PendingSave? pending))
        {
            return result;
        }

        _pending.Remove(context);
        if (pending.RecordedInSave)
        {
            if (pending.Transaction is { } transaction)
            {
                await using (transaction.ConfigureAwait(false))
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            return result;
        }

        // Rows the database keyed have their keys now; the others were read before the save (a deleted row's entry is
        // detached by now, and a shadow key goes with it).
        await Recorder
            .RecordChangesAsync([.. pending.KnownIds, .. pending.KeyedBySave.Select(IdOf)], cancellationToken)
            .ConfigureAwait(false);
        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) =>
        SaveChangesFailedAsync(eventData).GetAwaiter().GetResult();

    public override async Task SaveChangesFailedAsync(
        DbContextErrorEventData eventData,
        CancellationToken cancellationToken = default
    )
    {
        if (eventData.Context is not { } context || !_pending.TryGetValue(context, out PendingSave? pending))
        {
            return;
        }

        _pending.Remove(context);
        if (pending.Transaction is { } transaction)
        {
            await using (transaction.ConfigureAwait(false))
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool HasKnownKey(EntityEntry<TOld> entry) =>
        entry.Metadata.FindPrimaryKey()!.Properties.All(p => !entry.Property(p.Name).IsTemporary);

    private string IdOf(EntityEntry<TOld> entry)
    {
        var key = entry.Metadata.FindPrimaryKey()!;
        if (key.Properties.Count != 1)
        {
            throw new NotSupportedException(
                $"{typeof(TOld).Name} has a composite key: forward sync records one id per row, from a single key."
            );
        }

        object value =
            entry.Property(key.Properties[0].Name).CurrentValue
            ?? throw new InvalidOperationException($"A {typeof(TOld).Name} row has a null key.");
        return formatKey?.Invoke(value) ?? Convert.ToString(value, CultureInfo.InvariantCulture)!;
    }

    /// <summary>What one save changed, between its start and its end.</summary>
    private sealed class PendingSave(List<EntityEntry<TOld>> keyedBySave, HashSet<string> knownIds)
    {
        /// <summary>Gets the inserted rows whose keys the database generates: known once the save is done.</summary>
        public List<EntityEntry<TOld>> KeyedBySave { get; } = keyedBySave;

        /// <summary>Gets the ids known before the save: every one but rows whose keys the database generates.</summary>
        public HashSet<string> KnownIds { get; } = knownIds;

        public IDbContextTransaction? Transaction { get; set; }

        public bool RecordedInSave { get; set; }
    }
}
