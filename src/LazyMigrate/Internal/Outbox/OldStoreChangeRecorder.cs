using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>Records forward sync items in the migration's outbox, then wakes its dispatcher.</summary>
internal sealed class OldStoreChangeRecorder<TOld, TNew>(MigrationContext<TOld, TNew> context)
    : IOldStoreChangeRecorder<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public string MigrationName => context.Name;

    public ValueTask RecordChangeAsync(string id, CancellationToken cancellationToken = default) =>
        RecordChangesAsync([id], cancellationToken);

    public async ValueTask<bool> RecordWriteAsync(
        string id,
        Func<CancellationToken, ValueTask<bool>> write,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(write);
        List<string> ids = Validated([id]);
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, ids, forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            // A lock that is lost stops the write where it can: a write-back could land beside it then.
            using var lockHeld = CancellationTokenSource.CreateLinkedTokenSource(
                cancellationToken,
                lease.LockLostToken
            );
            bool changed;
            try
            {
                changed = await write(lockHeld.Token).ConfigureAwait(false);
            }
            catch (Exception failure)
            {
                await RecordAfterFailureAsync(ids, failure).ConfigureAwait(false);
                throw;
            }

            if (changed)
            {
                await RecordAsync(ids, CancellationToken.None).ConfigureAwait(false);
            }

            return changed;
        }
    }

    /// <summary>
    /// Records the change of a write that threw, which may have committed (its reply lost) or not, unless a write-back
    /// of the entity is pending: a forward sync recorded now would win over that acknowledged new-API write and copy
    /// over it a legacy row the failed write most likely did not change. The caller was told the legacy write failed.
    /// </summary>
    /// <exception cref="AggregateException">Recording failed too: both errors.</exception>
    private async ValueTask RecordAfterFailureAsync(List<string> ids, Exception failure)
    {
        try
        {
            IReadOnlyList<OutboxItem> items = await context
                .Stores.FindOutboxAsync(ids, CancellationToken.None)
                .ConfigureAwait(false);
            if (!items.Any(item => item.Kind == OutboxItemKind.WriteBack))
            {
                await RecordAsync(ids, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception recording)
        {
            throw new AggregateException(
                $"The legacy write of entity '{ids[0]}' failed, and so did recording its change.",
                failure,
                recording
            );
        }
    }

    public ValueTask RecordChangesAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default) =>
        RecordAsync(Validated(ids), cancellationToken);

    private List<string> Validated(IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (!context.Options.ForwardSync)
        {
            throw new InvalidOperationException(
                $"Migration '{context.Name}' has forward sync off: set LazyMigrationOptions.ForwardSync."
            );
        }

        List<string> all = EntityIds.Distinct(ids);
        foreach (string id in all)
        {
            context.Stores.ValidateOldId(id);
        }

        return all;
    }

    private async ValueTask RecordAsync(List<string> all, CancellationToken cancellationToken)
    {
        foreach (string id in all)
        {
            var intent = new OutboxIntent(
                context.Name,
                OutboxItemKind.ForwardSync,
                id,
                null,
                context.TimeProvider.GetUtcNow()
            );
            await context.Stores.RecordAsync(intent, cancellationToken).ConfigureAwait(false);
        }

        if (all.Count > 0)
        {
            context.Outbox.Wake();
        }
    }
}
