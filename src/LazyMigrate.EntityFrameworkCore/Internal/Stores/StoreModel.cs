using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Checks that a context's model fits a store: a mapped entity, a key selector naming its primary key, the entries
/// table.
/// </summary>
internal static class StoreModel
{
    /// <summary>The problems of the model for a store keyed by <paramref name="keyProperty"/>, or by the primary key
    /// when it is <see langword="null"/>; <paramref name="keyName"/> is the key property's name when it fits.</summary>
    public static List<string> Problems<TContext, TEntity, TKey>(
        TContext context,
        Func<TContext, DbSet<TEntity>> set,
        string? keyProperty,
        bool needsEntries,
        out string? keyName
    )
        where TContext : DbContext
        where TEntity : class
    {
        var problems = new List<string>();
        keyName = null;
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
        string actual = primaryKey is null ? "none" : string.Join(", ", primaryKey.Properties.Select(p => p.Name));
        if (primaryKey is not { Properties: [IProperty key] })
        {
            problems.Add(
                $"A store needs a single-property primary key of {entityType.DisplayName()} in {contextName}; "
                    + $"the primary key is ({actual})."
            );
        }
        else if (keyProperty is not null && key.Name != keyProperty)
        {
            problems.Add(
                $"The key selector must name the primary key of {entityType.DisplayName()} in {contextName}, "
                    + "a single property; "
                    + $"it names '{keyProperty}', the primary key is ({actual})."
            );
        }
        else if (key.ClrType != typeof(TKey))
        {
            problems.Add(
                $"The key {entityType.DisplayName()}.{key.Name} is a {key.ClrType.Name} in {contextName}, "
                    + $"but the store's key type is {typeof(TKey).Name}."
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
        else
        {
            keyName = key.Name;
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
