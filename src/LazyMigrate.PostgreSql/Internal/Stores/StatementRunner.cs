using System.Data;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Runs one statement of a store on a pooled connection, prepared on that physical connection when preparation is on.
/// </summary>
/// <remarks>
/// Npgsql keeps a prepared statement on its physical connection after the connection goes back to the pool, and a later
/// <c>Prepare</c> of the same SQL there finds it without a round trip: so each statement is parsed and planned once per
/// pooled connection instead of on every call. A multiplexing data source cannot prepare explicitly, so it never does.
/// </remarks>
internal sealed class StatementRunner
{
    private readonly NpgsqlDataSource _dataSource;

    public StatementRunner(NpgsqlDataSource dataSource, bool prepareStatements)
    {
        _dataSource = dataSource;
        Prepares = prepareStatements && !new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing;
    }

    /// <summary>Gets whether statements are prepared.</summary>
    public bool Prepares { get; }

    /// <summary>Executes a query; disposing the reader returns the connection to the pool.</summary>
    public async ValueTask<NpgsqlDataReader> ExecuteReaderAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CommandBehavior behavior,
        CancellationToken cancellationToken
    )
    {
        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NpgsqlCommand command = await CreateAsync(connection, sql, first, second, cancellationToken)
                .ConfigureAwait(false);
            await using (command.ConfigureAwait(false))
            {
                return await command
                    .ExecuteReaderAsync(behavior | CommandBehavior.CloseConnection, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Executes a statement and returns the number of rows it affected.</summary>
    public async ValueTask<int> ExecuteNonQueryAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CancellationToken cancellationToken
    )
    {
        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlCommand command = await CreateAsync(connection, sql, first, second, cancellationToken)
                .ConfigureAwait(false);
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Prepares a batch on its open connection, when preparation is on.</summary>
    public ValueTask PrepareAsync(NpgsqlBatch batch, CancellationToken cancellationToken) =>
        Prepares ? new ValueTask(batch.PrepareAsync(cancellationToken)) : default;

    private async ValueTask<NpgsqlCommand> CreateAsync(
        NpgsqlConnection connection,
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CancellationToken cancellationToken
    )
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(first);
        if (second is not null)
        {
            command.Parameters.Add(second);
        }

        if (Prepares)
        {
            try
            {
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await command.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return command;
    }
}
