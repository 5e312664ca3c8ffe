using System.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Runs the statements of one document table: one round trip per call, a pooled connection from the data source held
/// only for that call. Shared by the new-store and old-store facades, which differ in how they read tombstones.
/// </summary>
/// <remarks>Npgsql failures pass through unchanged: a transient one (<c>NpgsqlException.IsTransient</c>) is what the
/// core's pipelines retry.</remarks>
internal sealed class DocumentTable<T>
    where T : class
{
    private static readonly IReadOnlyDictionary<string, NewStoreRead<T>> NoReads =
        new Dictionary<string, NewStoreRead<T>>();
    private static readonly IReadOnlyDictionary<string, T> NoEntities = new Dictionary<string, T>();

    private readonly NpgsqlDataSource _dataSource;
    private readonly StatementRunner _statements;
    private readonly DocumentStatements _sql;
    private readonly DocumentSerializer<T> _serializer;
    private readonly SchemaGate _schema;
    private readonly int _scanPageSize;
    private readonly PresentRangeProbe _presentRange = new();

    /// <param name="dataSource">The data source.</param>
    /// <param name="options">The store's options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <param name="marksWriteBacks">Whether every write marks its transaction as a write-back (an old store).</param>
    /// <param name="staleColumn">
    /// Whether the table has the <c>stale</c> column (a new store's): its reads return it, its writes clear it, and
    /// <see cref="PostgreSqlDocumentStoreOptions.CreateSchema"/> adds it to a table an earlier version created.
    /// </param>
    /// <param name="pendingWriteBackColumns">
    /// Whether the table needs the columns of write-backs pending in rows too (a new store with an outbox), which
    /// <see cref="PostgreSqlDocumentStoreOptions.CreateSchema"/> then adds to a table an earlier version created.
    /// </param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public DocumentTable(
        NpgsqlDataSource dataSource,
        PostgreSqlDocumentStoreOptions? options,
        ILoggerFactory? loggerFactory,
        bool marksWriteBacks,
        bool staleColumn,
        bool pendingWriteBackColumns = false
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlDocumentStoreOptions();
        PostgreSqlDocumentStoreOptionsValidator.ThrowIfInvalid(options);
        Name = DocumentTableName.For(options, typeof(T));
        _dataSource = dataSource;
        _statements = new StatementRunner(dataSource, options.PrepareStatements, marksWriteBacks);
        _sql = new DocumentStatements(Name, staleColumn);
        _serializer = new DocumentSerializer<T>(options.JsonSerializerOptions, Name);
        _scanPageSize = options.ScanPageSize;
        Logger = loggerFactory?.CreateLogger(PostgreSqlLog.Category) ?? NullLogger.Instance;
        _schema = new SchemaGate(
            dataSource,
            Name,
            PostgreSqlDocumentStoreSchema.CreateScript(Name),
            options.CreateSchema,
            Logger,
            pendingWriteBackColumns ? PostgreSqlDocumentStoreSchema.PendingSinceColumn
                : staleColumn ? PostgreSqlDocumentStoreSchema.StaleColumn
                : null
        );
    }

    public DocumentTableName Name { get; }

    public NpgsqlDataSource DataSource => _dataSource;

    public DocumentStatements Sql => _sql;

    /// <summary>Gets how this table's statements run (prepared or not).</summary>
    public StatementRunner Statements => _statements;

    public ILogger Logger { get; }

    /// <summary>Completes when the table is there (see <see cref="SchemaGate"/>).</summary>
    public ValueTask EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureAsync(cancellationToken);

    /// <summary>
    /// Reads an id as the new store sees it: a value, a tombstone, or nothing; stale
    /// (<see cref="NewStoreRead{TNew}.AsStale"/>) when the old API wrote it since.
    /// </summary>
    public async ValueTask<NewStoreRead<T>> FindAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(_sql.Find, Text(id), null, CommandBehavior.SingleRow, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return NewStoreRead<T>.Missing;
            }

            return ReadNewStoreRow(reader, 0, id);
        }
    }

    public async ValueTask<IReadOnlyDictionary<string, NewStoreRead<T>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken
    )
    {
        if (ids.Count == 0)
        {
            return NoReads;
        }

        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(_sql.FindMany, TextArray(ids), null, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await ReadNewStoreRowsAsync(reader, ids.Count, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the rows of <see cref="DocumentStatements.FindMany"/> (id, deleted, payload, stale) from the reader's
    /// current result.
    /// </summary>
    private async ValueTask<Dictionary<string, NewStoreRead<T>>> ReadNewStoreRowsAsync(
        NpgsqlDataReader reader,
        int capacity,
        CancellationToken cancellationToken
    )
    {
        var found = new Dictionary<string, NewStoreRead<T>>(capacity, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            string id = reader.GetString(0);
            found[id] = ReadNewStoreRow(reader, 1, id);
        }

        return found;
    }

    /// <summary>
    /// Reads what the new store holds for <paramref name="id"/> from the current row: <c>deleted</c> at
    /// <paramref name="ordinal"/>, then <c>payload</c>, then <c>stale</c>; a null <c>deleted</c> is a row the table
    /// lacks (an outer join's).
    /// </summary>
    public NewStoreRead<T> ReadNewStoreRow(NpgsqlDataReader reader, int ordinal, string id)
    {
        if (reader.IsDBNull(ordinal))
        {
            return NewStoreRead<T>.Missing;
        }

        NewStoreRead<T> read = reader.GetBoolean(ordinal)
            ? NewStoreRead<T>.Deleted
            : NewStoreRead<T>.Found(ReadEntity(reader, ordinal + 1, id));
        return reader.GetBoolean(ordinal + 2) ? read.AsStale() : read;
    }

    /// <summary>Reads (id, payload) rows from the reader's current result, by id.</summary>
    private async ValueTask<Dictionary<string, T>> ReadEntityRowsAsync(
        NpgsqlDataReader reader,
        int capacity,
        CancellationToken cancellationToken
    )
    {
        var found = new Dictionary<string, T>(capacity, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            string id = reader.GetString(0);
            found[id] = ReadEntity(reader, 1, id);
        }

        return found;
    }

    /// <summary>Reads an id as the old store sees it: a tombstone counts as absent.</summary>
    public async ValueTask<T?> FindLiveAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(_sql.FindLive, Text(id), null, CommandBehavior.SingleRow, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadEntity(reader, 0, id) : null;
        }
    }

    public async ValueTask<IReadOnlyDictionary<string, T>> FindManyLiveAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken
    )
    {
        if (ids.Count == 0)
        {
            return NoEntities;
        }

        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(_sql.FindManyLive, TextArray(ids), null, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await ReadEntityRowsAsync(reader, ids.Count, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds one page of the keyset scan to <paramref name="page"/>: live rows with an id after
    /// <paramref name="afterId"/>, in "C" (byte) order.
    /// </summary>
    public async ValueTask ReadPageAsync(
        string? afterId,
        List<KeyValuePair<string, T>> page,
        CancellationToken cancellationToken
    )
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var pageSize = new NpgsqlParameter<int> { TypedValue = _scanPageSize };
        await (
            afterId is null
                ? ReadEntitiesAsync(_sql.ScanFirst, pageSize, null, page, cancellationToken)
                : ReadEntitiesAsync(_sql.ScanAfter, Text(afterId), pageSize, page, cancellationToken)
        ).ConfigureAwait(false);
    }

    /// <summary>Counts the live rows a scan after <paramref name="afterId"/> would yield.</summary>
    public async ValueTask<long> CountLiveAfterAsync(string? afterId, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        return await (
            afterId is null
                ? _statements.ExecuteCountAsync(_sql.CountLive, [], cancellationToken)
                : _statements.ExecuteCountAsync(_sql.CountLiveAfter, [Text(afterId)], cancellationToken)
        ).ConfigureAwait(false);
    }

    /// <summary>The size of a full page: a shorter one is the last.</summary>
    public int ScanPageSize => _scanPageSize;

    /// <summary>Serializes an entity into its <c>jsonb</c> payload.</summary>
    /// <exception cref="UnstorableEntityException"><c>jsonb</c> cannot hold the entity.</exception>
    public byte[] Serialize(string id, T entity) => _serializer.Serialize(id, entity);

    public async ValueTask<bool> InsertIfAbsentAsync(string id, T entity, CancellationToken cancellationToken) =>
        await ExecuteAsync(_sql.InsertIfAbsent, Text(id), Jsonb(_serializer.Serialize(id, entity)), cancellationToken)
            .ConfigureAwait(false) == 1;

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        CancellationToken cancellationToken
    )
    {
        if (entities.Count == 0)
        {
            return [];
        }

        var (ids, payloads) = Serialized(entities);
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);

        // Inside an ambient TransactionScope the connection is enlisted, and a failed statement would abort the
        // caller's transaction: there, insert-if-absent proper, which never fails on a held id.
        if (System.Transactions.Transaction.Current is not null)
        {
            return await InsertManyAsync(_sql.InsertManyIfAbsent, ids, payloads, cancellationToken)
                .ConfigureAwait(false);
        }

        // The plain insert first: about 15% less of the server's time a row than ON CONFLICT (docs/benchmarks.md, the
        // backfill). A unique violation means another transaction inserted one of the ids after this statement's
        // snapshot; nothing of the batch was written, and insert-if-absent proper runs it again.
        try
        {
            return await InsertManyAbsentAsync(ids, payloads, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return await InsertManyAsync(_sql.InsertManyIfAbsent, ids, payloads, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <see cref="DocumentStatements.InsertManyAbsent"/>, which finds the rows present by a range scan when
    /// <see cref="PresentRangeProbe"/> allows it, and tells the probe how that scan went.
    /// </summary>
    /// <remarks>
    /// The store does not prepare the statement (Npgsql still does after a few runs if the connection string sets
    /// <c>Max Auto Prepare</c>): planned with this batch's bounds, PostgreSQL knows how much of the table the range
    /// holds and scans the index in order up to the cap, where a generic plan could read the whole range first. After
    /// a complete scan the ids inserted are the batch's others, which holds as long as nothing but a unique violation
    /// stops a row of the plain insert (no trigger of the team's own on LazyMigrate's table drops rows).
    /// </remarks>
    private async ValueTask<IReadOnlyCollection<string>> InsertManyAbsentAsync(
        string[] ids,
        byte[][] payloads,
        CancellationToken cancellationToken
    )
    {
        var (idsParameter, payloadsParameter) = InsertManyParameters(ids, payloads);
        var (low, high) = PresentRangeProbe.Bounds(ids);
        int limit = _presentRange.NextLimit(ids.Length);
        NpgsqlDataReader reader = await _statements
            .ExecuteUnpreparedReaderAsync(
                _sql.InsertManyAbsent,
                [
                    idsParameter,
                    payloadsParameter,
                    Text(low),
                    Text(high),
                    new NpgsqlParameter<int> { TypedValue = limit },
                ],
                cancellationToken
            )
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            bool complete = false;
            List<string>? inserted = null;
            HashSet<string>? present = null;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.IsDBNull(0))
                {
                    complete = reader.GetBoolean(1);
                }
                else if (reader.GetBoolean(1))
                {
                    (present ??= new HashSet<string>(StringComparer.Ordinal)).Add(reader.GetString(0));
                }
                else
                {
                    (inserted ??= new List<string>(ids.Length)).Add(reader.GetString(0));
                }
            }

            // A batch that skipped the scan has nothing to say of its range.
            if (limit > 0)
            {
                _presentRange.Record(complete);
            }

            return complete ? Absent(ids, present) : inserted ?? [];
        }
    }

    /// <summary>
    /// The ids of a batch that a complete range scan did not find: those the plain insert inserted, since the
    /// statement either inserts every one of them or fails.
    /// </summary>
    private static List<string> Absent(string[] ids, HashSet<string>? present)
    {
        var absent = new List<string>(ids.Length);
        foreach (string id in ids)
        {
            if (present is null || !present.Contains(id))
            {
                absent.Add(id);
            }
        }

        return absent;
    }

    /// <summary>
    /// Runs one of the batched inserts, with parameters of its own (a parameter belongs to one command).
    /// </summary>
    private async ValueTask<IReadOnlyCollection<string>> InsertManyAsync(
        string sql,
        string[] ids,
        byte[][] payloads,
        CancellationToken cancellationToken
    )
    {
        var (idsParameter, payloadsParameter) = InsertManyParameters(ids, payloads);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(sql, idsParameter, payloadsParameter, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await ReadInsertedIdsAsync(reader, ids.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Validates the ids and serializes the entities into the two parameters of <see
    /// cref="DocumentStatements.InsertManyIfAbsent"/>.
    /// </summary>
    /// <exception cref="InvalidEntityIdException">An id PostgreSQL cannot store.</exception>
    public (NpgsqlParameter<string[]> Ids, NpgsqlParameter<byte[][]> Payloads) InsertManyParameters(
        IReadOnlyCollection<KeyValuePair<string, T>> entities
    )
    {
        var (ids, payloads) = Serialized(entities);
        return InsertManyParameters(ids, payloads);
    }

    /// <summary>Validates the ids and serializes the entities, in the batch's order.</summary>
    /// <exception cref="InvalidEntityIdException">An id PostgreSQL cannot store.</exception>
    /// <exception cref="UnstorableEntityException"><c>jsonb</c> cannot hold an entity, the first such one.</exception>
    private (string[] Ids, byte[][] Payloads) Serialized(IReadOnlyCollection<KeyValuePair<string, T>> entities)
    {
        string[] ids = new string[entities.Count];
        byte[][] payloads = new byte[entities.Count][];
        int i = 0;
        foreach (var (id, entity) in entities)
        {
            PostgreSqlEntityIds.Validate(id);
            ids[i] = id;
            payloads[i++] = _serializer.Serialize(id, entity);
        }

        return (ids, payloads);
    }

    private static (NpgsqlParameter<string[]> Ids, NpgsqlParameter<byte[][]> Payloads) InsertManyParameters(
        string[] ids,
        byte[][] payloads
    ) =>
        (
            new NpgsqlParameter<string[]> { TypedValue = ids },
            new NpgsqlParameter<byte[][]>
            {
                TypedValue = payloads,
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            }
        );

    /// <summary>
    /// Reads the ids <see cref="DocumentStatements.InsertManyIfAbsent"/> returned from the reader's current result.
    /// </summary>
    public static async ValueTask<List<string>> ReadInsertedIdsAsync(
        NpgsqlDataReader reader,
        int capacity,
        CancellationToken cancellationToken
    )
    {
        var inserted = new List<string>(capacity);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            inserted.Add(reader.GetString(0));
        }

        return inserted;
    }

    public async ValueTask UpsertAsync(string id, T entity, CancellationToken cancellationToken) =>
        await ExecuteAsync(_sql.Upsert, Text(id), Jsonb(_serializer.Serialize(id, entity)), cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Upserts entities of distinct ids in one statement.</summary>
    /// <exception cref="InvalidEntityIdException">An id PostgreSQL cannot store.</exception>
    public async ValueTask UpsertManyAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        CancellationToken cancellationToken
    )
    {
        var (ids, payloads) = InsertManyParameters(entities);
        await ExecuteAsync(_sql.UpsertMany, ids, payloads, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DeleteManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        await ExecuteAsync(_sql.DeleteMany, TextArray(ids), second: null, cancellationToken).ConfigureAwait(false);

    public async ValueTask TombstoneAsync(string id, CancellationToken cancellationToken) =>
        await ExecuteAsync(_sql.Tombstone, Text(id), second: null, cancellationToken).ConfigureAwait(false);

    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken) =>
        await ExecuteAsync(_sql.Delete, Text(id), second: null, cancellationToken).ConfigureAwait(false);

    public static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    public static NpgsqlParameter<string[]> TextArray(IReadOnlyCollection<string> values) =>
        new() { TypedValue = values as string[] ?? [.. values] };

    public static NpgsqlParameter<byte[]> Jsonb(byte[] utf8Json) =>
        new() { TypedValue = utf8Json, NpgsqlDbType = NpgsqlDbType.Jsonb };

    private async ValueTask<int> ExecuteAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        CancellationToken cancellationToken
    )
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        return await _statements.ExecuteNonQueryAsync(sql, first, second, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads (id, payload) rows whole into <paramref name="rows"/>, so the connection goes back to the pool before
    /// anyone sees them.
    /// </summary>
    private async ValueTask ReadEntitiesAsync(
        string sql,
        NpgsqlParameter first,
        NpgsqlParameter? second,
        List<KeyValuePair<string, T>> rows,
        CancellationToken cancellationToken
    )
    {
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(sql, first, second, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string id = reader.GetString(0);
                rows.Add(new(id, ReadEntity(reader, 1, id)));
            }
        }
    }

    /// <summary>
    /// Deserializes the payload at <paramref name="ordinal"/> of the current row (a null payload is a corrupt row).
    /// </summary>
    public T ReadEntity(NpgsqlDataReader reader, int ordinal, string id) =>
        reader.IsDBNull(ordinal)
            ? _serializer.MissingPayload(id)
            : _serializer.Deserialize(id, reader.GetFieldValue<byte[]>(ordinal));
}
