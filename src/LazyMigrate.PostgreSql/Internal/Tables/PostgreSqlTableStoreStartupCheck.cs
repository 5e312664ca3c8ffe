using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of a <see cref="PostgreSqlTableOldStore{TOld}"/> (see
/// <see cref="PostgreSqlTableStoreOptions{TOld}.CheckOnStart"/>): the table, its key and every mapped column, as
/// <see cref="TableSchemaCheck"/> asks the catalog.
/// </summary>
internal sealed class PostgreSqlTableStoreStartupCheck<TOld>(
    string migration,
    string optionsName,
    NpgsqlDataSource? dataSource,
    Func<IServiceProvider, bool> isInUse
) : IPostgreSqlStartupCheck
    where TOld : class
{
    public string Migration { get; } = migration;

    public string Part => nameof(MigrationRole.OldStore);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!isInUse(services))
        {
            return;
        }

        PostgreSqlTableStoreOptions<TOld> options = services
            .GetRequiredService<IOptionsMonitor<PostgreSqlTableStoreOptions<TOld>>>()
            .Get(optionsName);
        if (!options.CheckOnStart)
        {
            return;
        }

        TableMapping<TOld> mapping = TableMapping<TOld>.Build(options);
        NpgsqlDataSource source = dataSource ?? services.GetRequiredService<NpgsqlDataSource>();
        List<string> problems;
        try
        {
            problems = await TableSchemaCheck.ProblemsAsync(source, mapping, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            throw Failed(mapping, exception.Message.TrimEnd('.') + ": the database did not answer", exception);
        }

        if (problems.Count > 0)
        {
            throw Failed(mapping, string.Join("; ", problems), null);
        }
    }

    private InvalidOperationException Failed(TableMapping<TOld> mapping, string cause, Exception? inner) =>
        new(
            $"LazyMigrate migration '{Migration}': the {Part} (PostgreSQL table {mapping.Table.Qualified}, "
                + $"{typeof(TOld).Name}) failed its start-up check: {cause}. "
                + $"Set {nameof(PostgreSqlTableStoreOptions<TOld>.CheckOnStart)} = false to skip this check.",
            inner
        );
}
