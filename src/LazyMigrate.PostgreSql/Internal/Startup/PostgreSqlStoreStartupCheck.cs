using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of one PostgreSQL store of one migration (see <see
/// cref="PostgreSqlDocumentStoreOptions.CheckOnStart"/>):
/// the database answers and the table is there with the store's columns, or, with
/// <see cref="PostgreSqlDocumentStoreOptions.CreateSchema"/>, is created now rather than at the first read. A new
/// store's table must have the <c>stale</c> column, which an earlier version did not create: <c>CreateSchema</c> adds
/// it; without it the check fails and says how to add it. An old store's table needs no such column.
/// </summary>
/// <param name="migration">The migration name.</param>
/// <param name="role">The store's role.</param>
/// <param name="optionsName">The name of the store's options.</param>
/// <param name="entityType">The store's entity type, which names its default table.</param>
/// <param name="dataSource">The data source given to the <c>Use...</c> call, or null for the container's.</param>
/// <param name="isInUse">
/// Whether the migration's store of this role is still a PostgreSQL store: a later <c>Use...</c> call may have
/// replaced it, and a store the migration no longer uses must not fail the host's start.
/// </param>
internal sealed class PostgreSqlStoreStartupCheck(
    string migration,
    MigrationRole role,
    string optionsName,
    Type entityType,
    NpgsqlDataSource? dataSource,
    Func<IServiceProvider, bool> isInUse
) : IPostgreSqlStartupCheck
{
    /// <summary>Gets the migration name.</summary>
    public string Migration { get; } = migration;

    /// <summary>Gets the store's role.</summary>
    public string Part { get; } = role.ToString();

    /// <summary>
    /// Gets the columns a store needs beyond the first layout, in the order they came: a new store's <c>stale</c>, and
    /// with a PostgreSQL outbox on its database the columns of write-backs pending in rows.
    /// </summary>
    private string[] AddedColumns(IServiceProvider services, NpgsqlDataSource source) =>
        role != MigrationRole.NewStore ? []
        : services.GetKeyedService<IMigrationOutbox>(Migration) is PostgreSqlOutbox outbox
        && outbox.SharesDatabaseWith(source)
            ? [.. PostgreSqlDocumentStoreSchema.AddedColumns.Select(c => c.Name)]
        : [PostgreSqlDocumentStoreSchema.StaleColumn];

    /// <exception cref="InvalidOperationException">The check failed; the cause is the inner exception.</exception>
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!isInUse(services))
        {
            return;
        }

        PostgreSqlDocumentStoreOptions options = services
            .GetRequiredService<IOptionsMonitor<PostgreSqlDocumentStoreOptions>>()
            .Get(optionsName);
        if (!options.CheckOnStart)
        {
            return;
        }

        DocumentTableName table = DocumentTableName.For(options, entityType);
        NpgsqlDataSource source = dataSource ?? services.GetRequiredService<NpgsqlDataSource>();
        string[] added = AddedColumns(services, source);
        try
        {
            if (options.CreateSchema)
            {
                // The store's own gate finds the table there afterwards and logs nothing: the creation is logged here.
                if (
                    await PostgreSqlDocumentStoreSchema
                        .CreateAsync(source, table, added.Length == 0 ? null : added[^1], cancellationToken)
                        .ConfigureAwait(false)
                )
                {
                    PostgreSqlLog.StoreTableCreated(
                        (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(
                            PostgreSqlLog.Category
                        ),
                        role,
                        table.Qualified
                    );
                }

                return;
            }

            // No row is read: the statement only has the server resolve the table and every column a store uses.
            string columns = string.Join(", ", ["id", "payload", "deleted", "updated_at", .. added]);
            NpgsqlCommand command = source.CreateCommand($"SELECT {columns} FROM {table.Qualified} WHERE false");
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException exception)
            when (exception.SqlState == PostgresErrorCodes.UndefinedColumn
                && added.Any(c => exception.MessageText.Contains($"\"{c}\"", StringComparison.Ordinal))
            )
        {
            throw new InvalidOperationException(
                $"LazyMigrate migration '{Migration}': the {Part} (PostgreSQL table {table.Qualified}) "
                    + $"failed its start-up check: {exception.MessageText.TrimEnd('.')}. "
                    + "A table created by an earlier version of LazyMigrate lacks the columns added since (the forward "
                    + "sync capture trigger's stale mark, the pending write-back of an Async save): add them with "
                    + $"{PostgreSqlDocumentStoreSchema.AddColumnsStatement(table)} and "
                    + $"{PostgreSqlDocumentStoreSchema.CreatePendingWriteBackIndex(table, concurrently: true)} "
                    + $"(as {nameof(PostgreSqlDocumentStoreSchema)}.CreateScript does), or set CreateSchema = true. "
                    + $"Set {nameof(PostgreSqlDocumentStoreOptions.CheckOnStart)} = false to skip this check.",
                exception
            );
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            throw Failure(Migration, Part, table.Qualified, nameof(PostgreSqlDocumentStoreSchema), exception);
        }
    }

    /// <summary>
    /// The failure of a start-up check of a table (a store's or the outbox's), naming the migration, the part, the
    /// table and the cause, with a hint from <paramref name="exception"/> (which class's <c>CreateScript</c>,
    /// <paramref name="schemaClass"/>, gives the table's script).
    /// </summary>
    public static InvalidOperationException Failure(
        string migration,
        string part,
        string table,
        string schemaClass,
        Exception exception
    )
    {
        string hint = (exception as PostgresException)?.SqlState switch
        {
            PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName =>
                $"Create the table ({schemaClass}.CreateScript gives the script) or set CreateSchema = true.",
            PostgresErrorCodes.UndefinedColumn =>
                $"The table lacks a column of the {part}'s layout (see {schemaClass}.CreateScript).",
            null => "The database did not answer: check the connection string and that the server is up.",
            _ => "See the cause.",
        };
        return new InvalidOperationException(
            $"LazyMigrate migration '{migration}': the {part} (PostgreSQL table {table}) "
                + $"failed its start-up check: {exception.Message.TrimEnd('.')}. {hint} "
                + $"Set {nameof(PostgreSqlDocumentStoreOptions.CheckOnStart)} = false to skip this check.",
            exception
        );
    }
}
