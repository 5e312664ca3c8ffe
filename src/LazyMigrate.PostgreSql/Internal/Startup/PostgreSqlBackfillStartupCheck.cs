using LazyMigrate.Backfill;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of a migration's PostgreSQL backfill checkpoints (see <see
/// cref="PostgreSqlBackfillCheckpointOptions.CheckOnStart"/>): the database answers and both tables are there with
/// their columns (with <see cref="PostgreSqlBackfillCheckpointOptions.CreateSchema"/>, created first if missing).
/// </summary>
/// <param name="migration">The migration name.</param>
/// <param name="checkOnStart">The options' <see cref="PostgreSqlBackfillCheckpointOptions.CheckOnStart"/>.</param>
internal sealed class PostgreSqlBackfillStartupCheck(string migration, bool checkOnStart) : IPostgreSqlStartupCheck
{
    public string Migration { get; } = migration;

    public string Part => "BackfillCheckpoints";

    /// <exception cref="InvalidOperationException">The check failed; the cause is the inner exception.</exception>
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Another checkpoint store registered later replaces this one: tables the migration no longer uses are not
        // checked.
        if (
            !checkOnStart
            || services.GetKeyedService<IBackfillCheckpointStore>(Migration)
                is not PostgreSqlBackfillCheckpointStore store
        )
        {
            return;
        }

        try
        {
            await store.CheckSchemaAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            throw PostgreSqlStoreStartupCheck.Failure(
                Migration,
                "backfill checkpoint store",
                store.Tables,
                nameof(PostgreSqlBackfillSchema),
                exception
            );
        }
    }
}
