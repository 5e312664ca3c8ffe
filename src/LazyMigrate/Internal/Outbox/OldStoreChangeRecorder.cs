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

    public async ValueTask RecordChangesAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default)
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
