using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// A new store's rows in the <see cref="LazyMigrateEntry"/> table: claims of live ids and tombstones of deleted ones.
/// </summary>
internal sealed class Entries(string entityType)
{
    public IQueryable<LazyMigrateEntry> Of(DbContext context, string id) =>
        context.Set<LazyMigrateEntry>().AsNoTracking().Where(e => e.EntityType == entityType && e.EntityId == id);

    public IQueryable<LazyMigrateEntry> Of(DbContext context, IReadOnlyCollection<string> ids)
    {
        string[] values = [.. ids];
        return context
            .Set<LazyMigrateEntry>()
            .AsNoTracking()
            .Where(e => e.EntityType == entityType && values.Contains(e.EntityId));
    }

    public async Task<Dictionary<string, bool>> DeletedByIdAsync(
        DbContext context,
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken
    )
    {
        if (ids.Count == 0)
        {
            return new(StringComparer.Ordinal);
        }

        return await Of(context, ids)
            .ToDictionaryAsync(e => e.EntityId, e => e.IsDeleted, StringComparer.Ordinal, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Adds the claims of ids nobody holds yet; saving them fails on any id another write holds.</summary>
    public void Add(DbContext context, IEnumerable<string> ids, bool deleted)
    {
        foreach (string id in ids)
        {
            context.Add(
                new LazyMigrateEntry
                {
                    EntityType = entityType,
                    EntityId = id,
                    IsDeleted = deleted,
                }
            );
        }
    }

    /// <summary>
    /// Takes the entry row of an id inside the caller's transaction, marking it live or deleted: an update when the row
    /// exists (which locks it until the transaction ends), an insert when it does not (which its primary key makes
    /// fail if a concurrent write inserted it first: <see cref="EntryRaceException"/>).
    /// </summary>
    public async Task TakeAsync(DbContext context, string id, bool deleted, CancellationToken cancellationToken)
    {
        int updated = await context
            .Set<LazyMigrateEntry>()
            .Where(e => e.EntityType == entityType && e.EntityId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.IsDeleted, deleted), cancellationToken)
            .ConfigureAwait(false);
        if (updated > 0)
        {
            return;
        }

        Add(context, [id], deleted);
        try
        {
            await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException exception) when (!StoreFailures.IsTransient(exception))
        {
            throw new EntryRaceException(exception);
        }
    }
}
