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
            bool changed;
            try
            {
                changed = await write(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Recorded all the same: a write whose commit reply was lost may have happened.
                await RecordAsync(ids, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            if (changed)
            {
                await RecordAsync(ids, CancellationToken.None).ConfigureAwait(false);
            }

            return changed;
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
