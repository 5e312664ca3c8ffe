using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks <see cref="PostgreSqlAdvisoryLockOptions"/> at start-up, and that a data source is registered when the lock
/// takes the container's.
/// </summary>
internal sealed class PostgreSqlAdvisoryLockOptionsValidator(IServiceProviderIsService? services = null)
    : IValidateOptions<PostgreSqlAdvisoryLockOptions>
{
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxKeepAlive = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, PostgreSqlAdvisoryLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > MaxPoll)
        {
            failures.Add($"PollInterval must be greater than 0 and at most {MaxPoll}, not {options.PollInterval}.");
        }

        if (options.MaxPollInterval < options.PollInterval || options.MaxPollInterval > MaxPoll)
        {
            failures.Add(
                $"MaxPollInterval must be at least PollInterval ({options.PollInterval}) and at most {MaxPoll}, "
                    + $"not {options.MaxPollInterval}."
            );
        }

        if (options.KeepAliveInterval < TimeSpan.Zero || options.KeepAliveInterval > MaxKeepAlive)
        {
            failures.Add(
                $"KeepAliveInterval must be between 0 (off) and {MaxKeepAlive}, not {options.KeepAliveInterval}."
            );
        }

        if (options.DataSourceFromContainer && services is not null && !services.IsService(typeof(NpgsqlDataSource)))
        {
            failures.Add(
                "needs an NpgsqlDataSource in the container: register one (for example "
                    + "services.AddNpgsqlDataSource(connectionString) from Npgsql.DependencyInjection) "
                    + "or pass one to UsePostgreSqlAdvisoryLock."
            );
        }

        string prefix = string.IsNullOrEmpty(name) ? "PostgreSQL advisory lock" : $"PostgreSQL advisory lock '{name}'";
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{prefix}: {f}"));
    }

    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static void ThrowIfInvalid(PostgreSqlAdvisoryLockOptions options)
    {
        ValidateOptionsResult result = new PostgreSqlAdvisoryLockOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage, nameof(options));
        }
    }
}
