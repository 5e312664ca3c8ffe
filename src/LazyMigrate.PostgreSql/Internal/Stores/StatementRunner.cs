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
    private readonly WriteBackBatch? _writeBacks;

    /// <param name="dataSource">The data source.</param>
    /// <param name="prepareStatements">Whether statements are prepared.</param>
    /// <param name="marksWriteBacks">
    /// Whether every statement run without a result set is a write-back, marked (<see cref="WriteBackMark"/>): an old
    /// store's.
    /// </param>
    public StatementRunner(NpgsqlDataSource dataSource, bool prepareStatements, bool marksWriteBacks = false)
    {
        _dataSource = dataSource;
        Prepares = prepareStatements && !new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing;
        _writeBacks = marksWriteBacks ? new WriteBackBatch(dataSource) : null;
    }

    /// <summary>Gets whether statements are prepared.</summary>
    public bool Prepares { get; }

    /// <summary>Gets whether writes carry the write-back mark.</summary>
    public bool MarksWriteBacks => _writeBacks is not null;

    /// <summary>Executes a query; disposing the reader returns the connection to the pool.</summary>
    public ValueTask<NpgsqlDataReader> ExecuteReaderAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CommandBehavior behavior,
        CancellationToken cancellationToken
    ) => ExecuteReaderAsync(sql, new OneOrTwo(first, second), behavior, prepare: true, cancellationToken);

    /// <summary>Executes a query with any number of parameters; disposing the reader returns the connection.</summary>
    public ValueTask<NpgsqlDataReader> ExecuteReaderAsync(
        string sql,
        NpgsqlParameter[] parameters,
        CommandBehavior behavior,
        CancellationToken cancellationToken
    ) => ExecuteReaderAsync(sql, new Many(parameters), behavior, prepare: true, cancellationToken);

    /// <summary>
    /// Executes a query without preparing it, so that PostgreSQL plans it with these parameters' values every time;
    /// disposing the reader returns the connection.
    /// </summary>
    public ValueTask<NpgsqlDataReader> ExecuteUnpreparedReaderAsync(
        string sql,
        NpgsqlParameter[] parameters,
        CancellationToken cancellationToken
    ) => ExecuteReaderAsync(sql, new Many(parameters), CommandBehavior.Default, prepare: false, cancellationToken);

    /// <summary>Executes a <c>SELECT count(*)</c> and returns the count.</summary>
    public async ValueTask<long> ExecuteCountAsync(
        string sql,
        NpgsqlParameter[] parameters,
        CancellationToken cancellationToken
    )
    {
        NpgsqlDataReader reader = await ExecuteReaderAsync(
                sql,
                parameters,
                CommandBehavior.SingleRow,
                cancellationToken
            )
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return reader.GetInt64(0);
        }
    }

    /// <summary>Executes a statement and returns the number of rows it affected.</summary>
    public ValueTask<int> ExecuteNonQueryAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CancellationToken cancellationToken
    ) => ExecuteNonQueryAsync(sql, new OneOrTwo(first, second), cancellationToken);

    /// <summary>Executes a statement with any number of parameters and returns the rows it affected.</summary>
    public ValueTask<int> ExecuteNonQueryAsync(
        string sql,
        NpgsqlParameter[] parameters,
        CancellationToken cancellationToken
    ) => ExecuteNonQueryAsync(sql, new Many(parameters), cancellationToken);

    /// <summary>Prepares a batch on its open connection, when preparation is on.</summary>
    public ValueTask PrepareAsync(NpgsqlBatch batch, CancellationToken cancellationToken) =>
        Prepares ? new ValueTask(batch.PrepareAsync(cancellationToken)) : default;

    /// <summary>
    /// Opens a connection for a write-back, with the transaction it will run in: chosen as it is opened, when it
    /// enlists in an ambient transaction or not (<see cref="WriteBackBatch.ScopeNow"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">This runner does not mark write-backs.</exception>
    public async ValueTask<(NpgsqlConnection Connection, WriteBackScope Scope)> OpenForWriteBackAsync(
        CancellationToken cancellationToken
    )
    {
        WriteBackScope scope = WriteBacks.ScopeNow();
        return (await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false), scope);
    }

    /// <summary>
    /// Runs <paramref name="writes"/> as one write-back (<see cref="WriteBackBatch"/>) on a connection of
    /// <see cref="OpenForWriteBackAsync"/>: one round trip, prepared when preparation is on.
    /// </summary>
    public ValueTask ExecuteWriteBackAsync(
        (NpgsqlConnection Connection, WriteBackScope Scope) opened,
        IReadOnlyList<NpgsqlBatchCommand> writes,
        CancellationToken cancellationToken
    ) => WriteBacks.ExecuteAsync(opened.Connection, opened.Scope, writes, Prepares, cancellationToken);

    private WriteBackBatch WriteBacks =>
        _writeBacks ?? throw new InvalidOperationException("Only an old store's statements are write-backs.");

    private async ValueTask<NpgsqlDataReader> ExecuteReaderAsync<TParameters>(
        string sql,
        TParameters parameters,
        CommandBehavior behavior,
        bool prepare,
        CancellationToken cancellationToken
    )
        where TParameters : struct, IParameters
    {
        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NpgsqlCommand command = await CreateAsync(connection, sql, parameters, prepare, cancellationToken)
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

    private async ValueTask<int> ExecuteNonQueryAsync<TParameters>(
        string sql,
        TParameters parameters,
        CancellationToken cancellationToken
    )
        where TParameters : struct, IParameters
    {
        if (MarksWriteBacks)
        {
            return await ExecuteMarkedAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
        }

        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlCommand command = await CreateAsync(connection, sql, parameters, prepare: true, cancellationToken)
                .ConfigureAwait(false);
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The mark and the statement in one batch (<see cref="WriteBackBatch"/>): one round trip.</summary>
    private async ValueTask<int> ExecuteMarkedAsync<TParameters>(
        string sql,
        TParameters parameters,
        CancellationToken cancellationToken
    )
        where TParameters : struct, IParameters
    {
        var statement = new NpgsqlBatchCommand(sql);
        parameters.AddTo(statement.Parameters);
        var opened = await OpenForWriteBackAsync(cancellationToken).ConfigureAwait(false);
        await using (opened.Connection.ConfigureAwait(false))
        {
            await ExecuteWriteBackAsync(opened, [statement], cancellationToken).ConfigureAwait(false);
            return statement.RecordsAffected;
        }
    }

    private async ValueTask<NpgsqlCommand> CreateAsync<TParameters>(
        NpgsqlConnection connection,
        string sql,
        TParameters parameters,
        bool prepare,
        CancellationToken cancellationToken
    )
        where TParameters : struct, IParameters
    {
        var command = new NpgsqlCommand(sql, connection);
        parameters.AddTo(command.Parameters);
        if (prepare && Prepares)
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

    /// <summary>A statement's parameters, as a struct so that the common one- and two-parameter calls allocate no
    /// array.</summary>
    private interface IParameters
    {
        void AddTo(NpgsqlParameterCollection collection);
    }

    private readonly struct OneOrTwo(NpgsqlParameter first, NpgsqlParameter? second) : IParameters
    {
        public void AddTo(NpgsqlParameterCollection collection)
        {
            collection.Add(first);
            if (second is not null)
            {
                collection.Add(second);
            }
        }
    }

    private readonly struct Many(NpgsqlParameter[] parameters) : IParameters
    {
        public void AddTo(NpgsqlParameterCollection collection) => collection.AddRange(parameters);
    }
}
