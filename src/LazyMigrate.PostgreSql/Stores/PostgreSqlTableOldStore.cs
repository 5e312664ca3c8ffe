using System.Data;
using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// An old store over an existing table with typed columns, one row per entity, which LazyMigrate did not create (unlike
/// <see cref="PostgreSqlOldStore{TOld}"/>, which reads LazyMigrate's own <c>jsonb</c> document layout). The key column
/// is <c>integer</c>, <c>bigint</c>, <c>uuid</c> or <c>text</c>; the columns map to <typeparamref name="TOld"/>'s
/// properties by convention (see <see cref="PostgreSqlTableStoreOptions{TOld}"/>).
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <remarks>
/// Thread-safe. Every call is one round trip on a pooled connection of the data source. Reads, batched reads and the
/// scan compare the key as a parameter of its own type, so the key's index serves them; the scan goes in the key's
/// order (numeric for numbers, the column's collation for text). An upsert writes only the mapped columns, so other
/// columns keep their values (or get their defaults on insert). See docs/postgresql.md.
/// </remarks>
public sealed class PostgreSqlTableOldStore<TOld>
    : IOldStore<TOld>,
        IReadAlongOldStore<TOld>,
        IBatchWritingOldStore<TOld>,
        IOldStoreCounter<TOld>
    where TOld : class
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly TableMapping<TOld> _mapping;
    private readonly TableStatements _sql;
    private readonly StatementRunner _statements;
    private readonly int _scanPageSize;
    private readonly bool _advanceKeySequence;
    private readonly int _parameterCount;
    private readonly ILogger _logger;
    private readonly TableReadAlong<TOld> _readAlong;

    // Resolved once, at the first upsert or NextIdAsync; a failed lookup is not kept, so the next call tries again.
    private volatile SequenceLookup? _sequence;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlTableOldStore{TOld}"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="options">The options: at least <see cref="PostgreSqlTableStoreOptions{TOld}.TableName"/>.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PostgreSqlTableOldStore(
        NpgsqlDataSource dataSource,
        PostgreSqlTableStoreOptions<TOld> options,
        ILoggerFactory? loggerFactory = null
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _mapping = TableMapping<TOld>.Build(options);
        _sql = new TableStatements(_mapping.Table, _mapping.KeyColumn, _mapping.Key.ParameterType, _mapping.Columns);
        _statements = new StatementRunner(dataSource, options.PrepareStatements, marksWriteBacks: true);
        _scanPageSize = options.ScanPageSize;
        _advanceKeySequence = options.AdvanceKeySequence && _mapping.Key.IsInteger;
        _parameterCount = _mapping.Columns.Count + 1;
        _logger = loggerFactory?.CreateLogger(PostgreSqlLog.Category) ?? NullLogger.Instance;
        _readAlong = new TableReadAlong<TOld>(dataSource, _mapping, _sql);
    }

    /// <summary>Gets the quoted, schema-qualified table name, for example <c>"public"."legacy_customers"</c>.</summary>
    public string TableName => _mapping.Table.Qualified;

    /// <summary>Gets the table, for a new store in the same database that reads it under its migration locks.</summary>
    IReadAlongTable<TOld> IReadAlongOldStore<TOld>.ReadAlongTable => _readAlong;

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="CorruptPayloadException">A column of the row does not read as its property.</exception>
    public async ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        NpgsqlParameter key = _mapping.Key.Parameter(id);
        cancellationToken.ThrowIfCancellationRequested();
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(_sql.Find, key, null, CommandBehavior.SingleRow | _mapping.RowAccess, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? _mapping.ReadEntity(reader, id)
                : null;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="CorruptPayloadException">A column of a row does not read as its property.</exception>
    public async ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        NpgsqlParameter keys = _mapping.Key.Array(ids);
        cancellationToken.ThrowIfCancellationRequested();
        if (ids.Count == 0)
        {
            return new Dictionary<string, TOld>();
        }

        var rows = new List<KeyValuePair<string, TOld>>(ids.Count);
        await ReadRowsAsync(_sql.FindMany, keys, null, rows, cancellationToken).ConfigureAwait(false);
        var found = new Dictionary<string, TOld>(rows.Count, StringComparer.Ordinal);
        foreach (var (id, entity) in rows)
        {
            found[id] = entity;
        }

        return found;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Pages through the table with <c>WHERE key &gt; $1 ORDER BY key LIMIT pageSize</c>
    /// (<see cref="PostgreSqlTableStoreOptions{TOld}.ScanPageSize"/> rows a query), in the key's own order: numeric for
    /// <c>integer</c> and <c>bigint</c>, byte order for <c>uuid</c>, the column's collation for text (so that its index
    /// serves the scan). Each page is read whole and its connection returned before its rows are yielded.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The cursor is not a key of the key column's type in canonical
    /// form.</exception>
    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    )
    {
        if (afterId is not null)
        {
            _mapping.Key.Validate(afterId);
        }

        return new KeysetScan<TOld>(afterId, _scanPageSize, ReadPageAsync, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <c>INSERT (key, mapped columns) ... ON CONFLICT (key) DO UPDATE SET</c> the mapped columns only. With
    /// <see cref="PostgreSqlTableStoreOptions{TOld}.AdvanceKeySequence"/>, an integer key with a sequence also moves
    /// the sequence past the key, in the same round trip and transaction.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back:
    /// the entity was written through the old API after its intent. Nothing was written.</exception>
    /// <exception cref="UnstorableEntityException">A string for a text column holds a NUL character, which PostgreSQL
    /// cannot hold; thrown naming the column before anything is sent.</exception>
    public async ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        NpgsqlParameter key = _mapping.Key.Parameter(id);
        ArgumentNullException.ThrowIfNull(entity);
        cancellationToken.ThrowIfCancellationRequested();
        await SupersededWriteBacks
            .RunAsync(WriteAsync([UpsertCommand(id, key, entity)], id, cancellationToken), _logger, id, TableName)
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One round trip and one transaction: <c>INSERT (key, mapped columns) SELECT FROM unnest(keys, one array
    /// per column) ... ON CONFLICT (key) DO UPDATE SET</c> the mapped columns only, as <see cref="UpsertAsync"/> writes
    /// one row; with <see cref="PostgreSqlTableStoreOptions{TOld}.AdvanceKeySequence"/>, the sequence is then moved
    /// past the batch's largest key under the same advisory lock. A row mapping
    /// (<see cref="PostgreSqlTableStoreOptions{TOld}.UseRowMapping"/>) writes its own parameters row by row, so it
    /// sends one single-row upsert per entity, all in that one batch.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">An id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back of
    /// one of the entities: it was written through the old API after its intent. None of the batch was written.
    /// </exception>
    /// <exception cref="UnstorableEntityException">A string for a text column holds a NUL character: thrown naming
    /// the first such entity and the column before anything is sent, so none of the batch was written.</exception>
    public async ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        var ids = new string[entities.Count];
        var rows = new TOld[entities.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            (ids[i], rows[i]) = (entities[i].Key, entities[i].Value);
            ArgumentNullException.ThrowIfNull(rows[i], nameof(entities));
        }

        NpgsqlParameter keys = _mapping.Key.Array(ids);
        cancellationToken.ThrowIfCancellationRequested();
        if (ids.Length == 0)
        {
            return;
        }

        await SupersededWriteBacks
            .RunManyAsync(
                WriteAsync(UpsertManyCommands(ids, rows, keys), _mapping.Key.Largest(ids), cancellationToken),
                ids[0],
                ids.Length,
                TableName
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The upsert of every row in one statement, or one statement a row where a row mapping writes the parameters.
    /// </summary>
    private NpgsqlBatchCommand[] UpsertManyCommands(string[] ids, TOld[] rows, NpgsqlParameter keys)
    {
        if (_mapping.ColumnArrays is not { } columns)
        {
            return [.. ids.Select((id, i) => UpsertCommand(id, _mapping.Key.Parameter(id), rows[i]))];
        }

        var upsert = new NpgsqlBatchCommand(_sql.UpsertMany);
        upsert.Parameters.Add(keys);
        for (int i = 0; i < columns.Count; i++)
        {
            NpgsqlParameter values = columns[i](rows);
            _mapping.ThrowIfUnstorable(ids, i, values);
            upsert.Parameters.Add(values);
        }

        return [upsert];
    }

    /// <inheritdoc/>
    /// <remarks>One statement, <c>DELETE ... WHERE key = ANY(keys)</c>.</remarks>
    /// <exception cref="InvalidEntityIdException">An id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back of
    /// one of the entities: it was written through the old API after its intent. None of the batch was written.
    /// </exception>
    public async ValueTask DeleteManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        NpgsqlParameter keys = _mapping.Key.Array(ids);
        cancellationToken.ThrowIfCancellationRequested();
        if (ids.Count > 0)
        {
            await SupersededWriteBacks
                .RunManyAsync(DeleteManyRowsAsync(keys, cancellationToken), ids[0], ids.Count, TableName)
                .ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id is not a key of the key column's type in canonical
    /// form.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back:
    /// the entity was written through the old API after its intent. Nothing was written.</exception>
    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        NpgsqlParameter key = _mapping.Key.Parameter(id);
        cancellationToken.ThrowIfCancellationRequested();
        await SupersededWriteBacks
            .RunAsync(DeleteRowAsync(key, cancellationToken), _logger, id, TableName)
            .ConfigureAwait(false);
    }

    private async ValueTask DeleteRowAsync(NpgsqlParameter key, CancellationToken cancellationToken) =>
        await _statements.ExecuteNonQueryAsync(_sql.Delete, key, null, cancellationToken).ConfigureAwait(false);

    private async ValueTask DeleteManyRowsAsync(NpgsqlParameter keys, CancellationToken cancellationToken) =>
        await _statements.ExecuteNonQueryAsync(_sql.DeleteMany, keys, null, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id is not a key of the column's type in its canonical
    /// form.</exception>
    public void ValidateId(string id) => _ = _mapping.Key.Parameter(id);

    /// <summary>
    /// Takes the next value of the key column's sequence (<c>nextval</c>), as the legacy application's own inserts do:
    /// the id for a new entity created through the new API, which then never collides with a legacy insert.
    /// </summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The id, in the key's canonical form.</returns>
    /// <exception cref="InvalidOperationException">The key is not <c>integer</c> or <c>bigint</c>, or has no sequence
    /// (neither <c>serial</c> nor <c>identity</c>).</exception>
    public async ValueTask<string> NextIdAsync(CancellationToken cancellationToken = default)
    {
        TableSequence sequence =
            (_mapping.Key.IsInteger ? await SequenceAsync(cancellationToken).ConfigureAwait(false) : null)
            ?? throw new InvalidOperationException(
                $"The key column \"{_mapping.KeyColumn}\" of {TableName} has no sequence to take ids from: "
                    + "it is not an integer or bigint column owning one (serial or identity)."
            );
        NpgsqlCommand command = _dataSource.CreateCommand(sequence.NextValue);
        await using (command.ConfigureAwait(false))
        {
            object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return _mapping.Key.Format((long)value!);
        }
    }

    /// <summary>The single-row upsert of one entity, with the parameters the mapping writes for it.</summary>
    private NpgsqlBatchCommand UpsertCommand(string id, NpgsqlParameter key, TOld entity)
    {
        var upsert = new NpgsqlBatchCommand(_sql.Upsert);
        upsert.Parameters.Add(key);
        _mapping.Write(entity, upsert.Parameters);
        if (upsert.Parameters.Count != _parameterCount)
        {
            throw new InvalidOperationException(
                $"The row mapping of {TableName} wrote {upsert.Parameters.Count - 1} values for "
                    + $"{_parameterCount - 1} columns: it must add one parameter per column, in order."
            );
        }

        _mapping.ThrowIfUnstorable(id, upsert.Parameters);

        return upsert;
    }

    /// <summary>
    /// Runs <paramref name="upserts"/> in one batch (one round trip, one transaction:
    /// <see cref="StatementRunner.ExecuteWriteBackAsync"/>), followed, where the key has a sequence to keep ahead, by
    /// its lock and advance for <paramref name="largestId"/>, the largest key written: moving the sequence past it
    /// moves it past every other.
    /// </summary>
    private async ValueTask WriteAsync(
        NpgsqlBatchCommand[] upserts,
        string largestId,
        CancellationToken cancellationToken
    )
    {
        TableSequence? sequence = _advanceKeySequence
            ? await SequenceAsync(cancellationToken).ConfigureAwait(false)
            : null;
        var opened = await _statements.OpenForWriteBackAsync(cancellationToken).ConfigureAwait(false);
        await using (opened.Connection.ConfigureAwait(false))
        {
            NpgsqlBatchCommand? advance = null;
            List<NpgsqlBatchCommand> writes = [.. upserts];
            if (sequence is not null)
            {
                writes.Add(Command(sequence.Lock, _mapping.Key.Parameter(largestId)));
                writes.Add(advance = Command(sequence.Advance, _mapping.Key.Parameter(largestId)));
            }

            // A write-back, which the forward sync capture trigger must not take for an old-API write.
            await _statements.ExecuteWriteBackAsync(opened, writes, cancellationToken).ConfigureAwait(false);
            if (advance is { RecordsAffected: > 0 })
            {
                PostgreSqlLog.KeySequenceAdvanced(_logger, sequence!.Qualified, largestId, TableName);
            }
        }
    }

    private static NpgsqlBatchCommand Command(string sql, NpgsqlParameter parameter)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(parameter);
        return command;
    }

    private async ValueTask<TableSequence?> SequenceAsync(CancellationToken cancellationToken)
    {
        if (_sequence is { } known)
        {
            return known.Sequence;
        }

        NpgsqlCommand command = _dataSource.CreateCommand(_sql.FindSequence);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.TableText });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.KeyColumn });
            NpgsqlDataReader reader = await command
                .ExecuteReaderAsync(CommandBehavior.SingleRow, cancellationToken)
                .ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                TableSequence? sequence = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? Sequence(reader.GetString(0), reader.GetString(1))
                    : null;
                if (sequence is null)
                {
                    PostgreSqlLog.KeySequenceNone(_logger, TableName);
                }
                else
                {
                    PostgreSqlLog.KeySequenceFound(_logger, TableName, sequence.Qualified);
                }

                _sequence = new SequenceLookup(sequence);
                return sequence;
            }
        }
    }

    private TableSequence Sequence(string schema, string name)
    {
        if (!PostgreSqlIdentifier.IsValid(schema) || !PostgreSqlIdentifier.IsValid(name))
        {
            throw new InvalidOperationException(
                $"The key of {TableName} takes its values from the sequence {schema}.{name}, whose name LazyMigrate "
                    + $"does not put into SQL (it must be {PostgreSqlIdentifier.Rule}): rename it, or set "
                    + "AdvanceKeySequence = false and take keys otherwise."
            );
        }

        return new TableSequence(schema, name);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One <c>SELECT count(*)</c> with the scan's own condition (<c>key &gt; $1</c>, the key as a parameter of its
    /// type), so the count is what a scan after <paramref name="afterId"/> yields as of that moment; the key's index
    /// serves it.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The cursor is not a key of the key column's type in canonical
    /// form.</exception>
    public ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default) =>
        afterId is null
            ? _statements.ExecuteCountAsync(_sql.CountAll, [], cancellationToken)
            : _statements.ExecuteCountAsync(_sql.CountAfter, [_mapping.Key.Parameter(afterId)], cancellationToken);

    private ValueTask ReadPageAsync(
        string? cursor,
        List<KeyValuePair<string, TOld>> page,
        CancellationToken cancellationToken
    )
    {
        var pageSize = new NpgsqlParameter<int> { TypedValue = _scanPageSize };
        return cursor is null
            ? ReadRowsAsync(_sql.ScanFirst, pageSize, null, page, cancellationToken)
            : ReadRowsAsync(_sql.ScanAfter, _mapping.Key.Parameter(cursor), pageSize, page, cancellationToken);
    }

    /// <summary>
    /// Reads rows whole into <paramref name="rows"/>, so the connection goes back to the pool before anyone sees them.
    /// </summary>
    private async ValueTask ReadRowsAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        List<KeyValuePair<string, TOld>> rows,
        CancellationToken cancellationToken
    )
    {
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(sql, first, second, _mapping.RowAccess, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(_mapping.ReadRow(reader));
            }
        }
    }

    private sealed record SequenceLookup(TableSequence? Sequence);
}
