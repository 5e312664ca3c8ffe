using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Checks that a context's model fits a store: a mapped entity, a key selector naming its primary key, the entries
/// table.
/// </summary>
internal static class StoreModel
{
    public static List<string> Problems<TContext, TEntity>(
        TContext context,
        Func<TContext, DbSet<TEntity>> set,
        string keyProperty,
        bool needsEntries
    )
        where TContext : DbContext
        where TEntity : class
    {
        var problems = new List<string>();
        string contextName = typeof(TContext).Name;
        IEntityType entityType;
        try
        {
            entityType = set(context).EntityType;
        }
        catch (InvalidOperationException exception)
        {
            problems.Add($"{typeof(TEntity).Name} is not an entity type of {contextName}: {exception.Message}");
            return problems;
        }

        IKey? primaryKey = entityType.FindPrimaryKey();
        if (primaryKey is not { Properties: [IProperty key] } || key.Name != keyProperty)
        {
            string actual = primaryKey is null ? "none" : string.Join(", ", primaryKey.Properties.Select(p => p.Name));
            problems.Add(
                $"The key selector must name the primary key of {entityType.DisplayName()} in {contextName}, "
                    + "a single property; "
                    + $"it names '{keyProperty}', the primary key is ({actual})."
            );
        }
        else if (key.ValueGenerated != ValueGenerated.Never)
        {
            problems.Add(
                $"The key {entityType.DisplayName()}.{key.Name} must not be generated (it is {key.ValueGenerated}): "
                    + $"configure it with .ValueGeneratedNever() in {contextName}, "
                    + "so that every entity is written under its own id."
            );
        }

        if (needsEntries && context.Model.FindEntityType(typeof(LazyMigrateEntry)) is null)
        {
            problems.Add(
                $"A new store needs LazyMigrate's entries table in {contextName}: "
                    + "call modelBuilder.AddLazyMigrateEntries() in its OnModelCreating."
            );
        }

        return problems;
    }
}
