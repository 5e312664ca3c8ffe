using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of a migration's PostgreSQL outbox (see <see cref="PostgreSqlOutboxOptions.CheckOnStart"/>): the
/// database answers and the table is there with the outbox's columns (with <see
/// cref="PostgreSqlOutboxOptions.CreateSchema"/>, created first if missing, now rather than at the first write).
/// </summary>
/// <param name="migration">The migration name.</param>
/// <param name="optionsName">The name of the outbox's options.</param>
internal sealed class PostgreSqlOutboxStartupCheck(string migration, string optionsName) : IPostgreSqlStartupCheck
{
    public string Migration { get; } = migration;

    public string Part => "Outbox";

    /// <exception cref="InvalidOperationException">The check failed; the cause is the inner exception.</exception>
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Another outbox registered later replaces this one: a table the migration no longer uses is not checked.
        if (services.GetKeyedService<IMigrationOutbox>(Migration) is not PostgreSqlOutbox outbox)
        {
            return;
        }

        PostgreSqlOutboxOptions options = services
            .GetRequiredService<IOptionsMonitor<PostgreSqlOutboxOptions>>()
            .Get(optionsName);
        if (!options.CheckOnStart)
        {
            return;
        }

        try
        {
            // Created now if missing; checked either way, since the script leaves a table that exists as it is (one
            // of an older version may lack a column).
            await outbox.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);

            NpgsqlCommand command = outbox.DataSource.CreateCommand(outbox.Sql.CheckColumns);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            throw PostgreSqlStoreStartupCheck.Failure(
                Migration,
                "outbox",
                outbox.TableName,
                nameof(PostgreSqlOutboxSchema),
                exception
            );
        }
    }
}
