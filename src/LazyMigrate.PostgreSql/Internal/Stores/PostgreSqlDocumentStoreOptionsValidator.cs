using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks <see cref="PostgreSqlDocumentStoreOptions"/> at start-up, and that a data source is registered when the store
/// takes the container's.
/// </summary>
internal sealed class PostgreSqlDocumentStoreOptionsValidator(IServiceProviderIsService? services = null)
    : IValidateOptions<PostgreSqlDocumentStoreOptions>
{
    public const int MaxScanPageSize = 100_000;

    /// <summary>The failure of a store that takes the container's data source when none is registered.</summary>
    public const string DataSourceMissing =
        "needs an NpgsqlDataSource in the container: register one (for example "
        + "services.AddNpgsqlDataSource(connectionString) from Npgsql.DependencyInjection) "
        + "or pass one to the Use method.";

    public ValidateOptionsResult Validate(string? name, PostgreSqlDocumentStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        AddIf(failures, PostgreSqlIdentifier.SchemaFailure(nameof(options.Schema), options.Schema));
        if (options.TableName is not null)
        {
            AddIf(failures, PostgreSqlIdentifier.NameFailure(nameof(options.TableName), options.TableName));
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("JsonSerializerOptions must not be null.");
        }

        if (options.ScanPageSize is < 1 or > MaxScanPageSize)
        {
            failures.Add($"ScanPageSize must be between 1 and {MaxScanPageSize}, not {options.ScanPageSize}.");
        }

        if (options.DataSourceFromContainer && services is not null && !services.IsService(typeof(NpgsqlDataSource)))
        {
            failures.Add(DataSourceMissing);
        }

        string prefix = string.IsNullOrEmpty(name) ? "PostgreSQL store" : $"PostgreSQL store '{name}'";
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{prefix}: {f}"));
    }

    /// <summary>Adds a failure, when there is one.</summary>
    public static void AddIf(List<string> failures, string? failure)
    {
        if (failure is not null)
        {
            failures.Add(failure);
        }
    }

    /// <summary>Throws when <paramref name="options"/> are invalid: for stores built without the container.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static void ThrowIfInvalid(PostgreSqlDocumentStoreOptions options)
    {
        ValidateOptionsResult result = new PostgreSqlDocumentStoreOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage, nameof(options));
        }
    }
}
