using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Validates one registered store at start-up: its option values, the context factory it needs, and the context's
/// model (entity mapped, key selector naming a non-generated primary key, entries table for a new store).
/// </summary>
internal sealed class EntityFrameworkCoreStoreValidator<TContext, TEntity, TKey>(
    string optionsName,
    string description,
    IServiceProvider services,
    Func<TContext, DbSet<TEntity>> set,
    string? keyProperty,
    bool needsEntries
) : IValidateOptions<EntityFrameworkCoreStoreOptions<TKey>>
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    public ValidateOptionsResult Validate(string? name, EntityFrameworkCoreStoreOptions<TKey> options)
    {
        if (name != optionsName)
        {
            return ValidateOptionsResult.Skip;
        }

        List<string> problems = StoreOptionsChecks.Problems(options);
        if (services.GetService<IDbContextFactory<TContext>>() is not { } contexts)
        {
            problems.Add(ContextFactoryChecks.Missing(typeof(TContext)));
        }
        else
        {
            using TContext context = contexts.CreateDbContext();
            problems.AddRange(
                StoreModel.Problems<TContext, TEntity, TKey>(context, set, keyProperty, needsEntries, out _)
            );
        }

        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => $"{description}: {p}"));
    }
}
