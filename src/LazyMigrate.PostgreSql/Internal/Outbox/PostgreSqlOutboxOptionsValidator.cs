using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks <see cref="PostgreSqlOutboxOptions"/> at start-up, and that a data source is registered when the outbox takes
/// the container's.
/// </summary>
internal sealed class PostgreSqlOutboxOptionsValidator(IServiceProviderIsService? services = null)
    : IValidateOptions<PostgreSqlOutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgreSqlOutboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        PostgreSqlDocumentStoreOptionsValidator.AddIf(
            failures,
            PostgreSqlIdentifier.SchemaFailure(nameof(options.Schema), options.Schema)
        );
        PostgreSqlDocumentStoreOptionsValidator.AddIf(
            failures,
            PostgreSqlIdentifier.NameFailure(nameof(options.TableName), options.TableName)
        );
        if (options.DataSourceFromContainer && services is not null && !services.IsService(typeof(NpgsqlDataSource)))
        {
            failures.Add(PostgreSqlDocumentStoreOptionsValidator.DataSourceMissing);
        }

        string prefix = string.IsNullOrEmpty(name) ? "PostgreSQL outbox" : $"PostgreSQL outbox '{name}'";
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{prefix}: {f}"));
    }

    /// <summary>Throws when <paramref name="options"/> are invalid: for an outbox built without the container.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static void ThrowIfInvalid(PostgreSqlOutboxOptions options)
    {
        ValidateOptionsResult result = new PostgreSqlOutboxOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage, nameof(options));
        }
    }
}
