using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks <see cref="PostgreSqlTableStoreOptions{TOld}"/> at start-up (names, key type, the mapping of every
/// property), and that a data source is registered when the store takes the container's.
/// </summary>
internal sealed class PostgreSqlTableStoreOptionsValidator<TOld>(IServiceProviderIsService? services = null)
    : IValidateOptions<PostgreSqlTableStoreOptions<TOld>>
    where TOld : class
{
    public ValidateOptionsResult Validate(string? name, PostgreSqlTableStoreOptions<TOld> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        TableMapping<TOld>.TryBuild(options, failures);
        if (options.DataSourceFromContainer && services is not null && !services.IsService(typeof(NpgsqlDataSource)))
        {
            failures.Add(PostgreSqlDocumentStoreOptionsValidator.DataSourceMissing);
        }

        string prefix = string.IsNullOrEmpty(name)
            ? $"PostgreSQL table store of {typeof(TOld).Name}"
            : $"PostgreSQL table store '{name}'";
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{prefix}: {f}"));
    }
}
