using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// An old store in one PostgreSQL table, in the same layout as <see cref="PostgreSqlNewStore{TNew}"/>: a delete removes
/// the row, and rows marked deleted (the table was a new store before) count as absent.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <remarks>Thread-safe. Every call is one round trip on a pooled connection of the data source. See
/// docs/postgresql.md.</remarks>
public sealed class PostgreSqlOldStore<TOld>
    : IBatchWritingOldStore<TOld>,
        IReadAlongOldStore<TOld>,
        IOldStoreCounter<TOld>
    where TOld : class
{
    private readonly DocumentTable<TOld> _table;
    private readonly DocumentTableReadAlong<TOld> _readAlong;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlOldStore{TOld}"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PostgreSqlOldStore(
        NpgsqlDataSource dataSource,
        PostgreSqlDocumentStoreOptions? options = null,
        ILoggerFactory? loggerFactory = null
    )
    {
        // Every write of an old store is a write-back: marked, so that a capture trigger does not record it.
        _table = new DocumentTable<TOld>(dataSource, options, loggerFactory, marksWriteBacks: true, staleColumn: false);
        _readAlong = new DocumentTableReadAlong<TOld>(_table);
        _logger = loggerFactory?.CreateLogger(PostgreSqlLog.Category) ?? NullLogger.Instance;
    }

    /// <summary>Gets the quoted, schema-qualified table name, for example <c>"public"."legacy_customer"</c>.</summary>
    public string TableName => _table.Name.Qualified;

    /// <summary>Gets the table, for a new store in the same database that reads it under its migration locks.</summary>
    IReadAlongTable<TOld> IReadAlongOldStore<TOld>.ReadAlongTable => _readAlong;

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">The stored payload does not deserialize.</exception>
    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return _table.FindLiveAsync(id, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize.</exception>
    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        PostgreSqlEntityIds.ValidateAll(ids);
        return _table.FindManyLiveAsync(ids, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Pages through the table with <c>WHERE id &gt; $1 ORDER BY id LIMIT pageSize</c> in the "C" collation
    /// (<see cref="PostgreSqlDocumentStoreOptions.ScanPageSize"/> rows a query). Each page is read whole and its
    /// connection returned before its rows are yielded, so memory stays flat and no connection is held while the caller
    /// works. "C" order is UTF-8 byte order: it equals .NET ordinal order except for ids mixing characters U+E000 to
    /// U+FFFF with characters beyond U+FFFF at the same position.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The cursor holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize; the scan stops
    /// there.</exception>
    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    )
    {
        if (afterId is not null)
        {
            PostgreSqlEntityIds.Validate(afterId);
        }

        return new KeysetScan<TOld>(afterId, _table.ScanPageSize, _table.ReadPageAsync, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One <c>SELECT count(*)</c> with the scan's own condition (<c>id &gt; $1</c> in the "C" collation, live rows
    /// only), so the count is what a scan after <paramref name="afterId"/> yields as of that moment.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The cursor holds a NUL character or a lone surrogate.</exception>
    public ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default)
    {
        if (afterId is not null)
        {
            PostgreSqlEntityIds.Validate(afterId);
        }

        return _table.CountLiveAfterAsync(afterId, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back:
    /// the entity was written through the old API after its intent. Nothing was written.</exception>
    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return SupersededWriteBacks.RunAsync(_table.UpsertAsync(id, entity, cancellationToken), _logger, id, TableName);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back:
    /// the entity was written through the old API after its intent. Nothing was written.</exception>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return SupersededWriteBacks.RunAsync(_table.DeleteAsync(id, cancellationToken), _logger, id, TableName);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <remarks>One statement: <c>INSERT ... SELECT FROM unnest(...) ON CONFLICT (id) DO UPDATE</c>.</remarks>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back of
    /// one of the entities: it was written through the old API after its intent. None of the batch was written.
    /// </exception>
    public ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        return entities.Count == 0
            ? default
            : SupersededWriteBacks.RunManyAsync(
                _table.UpsertManyAsync(entities, cancellationToken),
                entities[0].Key,
                entities.Count,
                TableName
            );
    }

    /// <inheritdoc />
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <remarks>One statement: <c>DELETE ... WHERE id = ANY(...)</c>.</remarks>
    /// <exception cref="WriteBackSupersededException">The forward sync trigger's order check refused the write-back of
    /// one of the entities: it was written through the old API after its intent. None of the batch was written.
    /// </exception>
    public ValueTask DeleteManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PostgreSqlEntityIds.ValidateAll(ids);
        return ids.Count == 0
            ? default
            : SupersededWriteBacks.RunManyAsync(
                _table.DeleteManyAsync(ids, cancellationToken),
                ids[0],
                ids.Count,
                TableName
            );
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public void ValidateId(string id) => PostgreSqlEntityIds.Validate(id);
}
