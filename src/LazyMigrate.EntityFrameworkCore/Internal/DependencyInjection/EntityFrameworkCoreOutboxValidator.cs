using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Validates one registered outbox at start-up: its option values, the context factory it needs, and the context's
/// model (the outbox table mapped).
/// </summary>
internal sealed class EntityFrameworkCoreOutboxValidator<TContext>(
    string optionsName,
    string description,
    IServiceProvider services
) : IValidateOptions<EntityFrameworkCoreOutboxOptions>
    where TContext : DbContext
{
    public ValidateOptionsResult Validate(string? name, EntityFrameworkCoreOutboxOptions options)
    {
        if (name != optionsName)
        {
            return ValidateOptionsResult.Skip;
        }

        List<string> problems = OutboxOptionsChecks.Problems(options);
        if (services.GetService<IDbContextFactory<TContext>>() is not { } contexts)
        {
            problems.Add(ContextFactoryChecks.Missing(typeof(TContext)));
        }
        else
        {
            using TContext context = contexts.CreateDbContext();
            if (OutboxTable.Problem(context) is { } problem)
            {
                problems.Add(problem);
            }
        }

        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => $"{description}: {p}"));
    }
}
