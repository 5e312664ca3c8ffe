using System.Data;
using LazyMigrate.Outbox;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The writes of a new store's table that record outbox intents with them, each one statement: the store's own
/// statement in a CTE, and the outbox's insert fed by the rows it wrote, so both commit together or neither does.
/// </summary>
/// <remarks>
/// The store's row is written first, then the outbox's (the insert reads the CTE's rows), the order the migration's
/// insert takes too: two writers of one id never lock the two rows in opposite orders.
/// </remarks>
/// <typeparam name="T">The entity type of the store.</typeparam>
internal sealed class OutboxStoreWrites<T>
    where T : class
{
    private readonly DocumentTable<T> _table;

    /// <summary>The migration whose write-backs may be marked in rows, and whether they are.</summary>
    private (string Migration, Func<bool> IsAsync)? _marking;

    public OutboxStoreWrites(DocumentTable<T> table, PostgreSqlOutbox outbox)
    {
        _table = table;
        Outbox = outbox;
        OutboxStatements o = outbox.Sql;
        UpsertAndRecord = $"WITH store AS ({table.Sql.Upsert} RETURNING id) {o.RecordFrom(3, "store")}";
        UpsertAndMark = table.Sql.UpsertMarkingWriteBack(o.SequenceName);
        TombstoneAndMark = table.Sql.TombstoneMarkingWriteBack(o.SequenceName);
        TombstoneAndRecord = $"WITH store AS ({table.Sql.Tombstone} RETURNING id) {o.RecordFrom(2, "store")}";

        // An intent whose id the insert did not insert (held, or tombstoned) joins no row: nothing is recorded for it.
        InsertManyAndRecord =
            $"WITH inserted AS ({table.Sql.InsertManyIfAbsent}), "
            + $"recorded AS ({o.InsertInto}"
            + "SELECT i.migration, i.kind, inserted.id, 1, i.payload, i.recorded_at, 0, i.recorded_at, false "
            + "FROM inserted, unnest($3::text[], $4::text[], $5::smallint[], $6::jsonb[], $7::timestamptz[]) "
            + "AS i(entity_id, migration, kind, payload, recorded_at) WHERE i.entity_id = inserted.id "
            + $"{o.RecordConflict}) "
            + "SELECT id FROM inserted";
    }

    public PostgreSqlOutbox Outbox { get; }

    /// <summary>
    /// Gets the upsert that records its write-back in the row instead (see <see cref="PendingWriteBacks"/>): $1 id, $2
    /// payload, $3 the write's time; returns the mark's sequence.
    /// </summary>
    public string UpsertAndMark { get; }

    /// <summary>Gets the tombstone that records its write-back in the row: $1 id, $2 the write's time.</summary>
    public string TombstoneAndMark { get; }

    /// <summary>
    /// From now on has the outbox read <paramref name="migration"/>'s write-backs in their rows, and records them there
    /// while <paramref name="isAsync"/> says that the migration's writes never complete their own item
    /// (<see cref="WriteBackMode.Async"/>: a mark has no item version to complete).
    /// </summary>
    public void MarkWriteBacksOf(string migration, Func<bool> isAsync)
    {
        Outbox.ReadPendingWriteBacksOf(migration, _table.Name, _table.EnsureSchemaAsync);
        _marking = (migration, isAsync);
    }

    /// <summary>Gets whether a write records <paramref name="intent"/> in the entity's row.</summary>
    private bool Marks(OutboxIntent intent) =>
        intent.Kind == OutboxItemKind.WriteBack
        && _marking is var (migration, isAsync)
        && intent.Migration.Equals(migration, StringComparison.Ordinal)
        && isAsync();

    /// <summary>Gets the upsert and its intent: $1 id, $2 payload, $3 to $7 the intent; returns the version.</summary>
    public string UpsertAndRecord { get; }

    /// <summary>Gets the tombstone and its intent: $1 id, $2 to $6 the intent; returns the version.</summary>
    public string TombstoneAndRecord { get; }

    /// <summary>
    /// Gets the insert-if-absent of a batch and the intents of the ids it inserted: $1 ids, $2 payloads, $3 to $7
    /// arrays of the intents (entity id, migration, kind, payload, recorded at); returns the inserted ids.
    /// </summary>
    public string InsertManyAndRecord { get; }

    /// <summary>Completes when the store's table and the outbox's are there.</summary>
    public async ValueTask EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await _table.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await Outbox.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<long> UpsertAndRecordAsync(
        string id,
        T entity,
        OutboxIntent intent,
        CancellationToken cancellationToken
    )
    {
        bool marks = Marks(IntentOf(id, intent));
        NpgsqlParameter[] parameters =
        [
            DocumentTable<T>.Text(id),
            DocumentTable<T>.Jsonb(_table.Serialize(id, entity)),
            .. marks ? [OutboxRows.Time(intent.RecordedAt)] : OutboxRows.Intent(intent),
        ];
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await PostgreSqlOutbox
            .ReadVersionAsync(_table.Statements, marks ? UpsertAndMark : UpsertAndRecord, parameters, cancellationToken)
            .ConfigureAwait(false);
    }

    public async ValueTask<long> TombstoneAndRecordAsync(
        string id,
        OutboxIntent intent,
        CancellationToken cancellationToken
    )
    {
        bool marks = Marks(IntentOf(id, intent));
        NpgsqlParameter[] parameters =
        [
            DocumentTable<T>.Text(id),
            .. marks ? [OutboxRows.Time(intent.RecordedAt)] : OutboxRows.Intent(intent),
        ];
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await PostgreSqlOutbox
            .ReadVersionAsync(
                _table.Statements,
                marks ? TombstoneAndMark : TombstoneAndRecord,
                parameters,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyAndRecordAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken
    )
    {
        if (entities.Count == 0)
        {
            return [];
        }

        NpgsqlParameter[] parameters = InsertManyParameters(entities, intents);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _table
            .Statements.ExecuteReaderAsync(InsertManyAndRecord, parameters, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await DocumentTable<T>
                .ReadInsertedIdsAsync(reader, entities.Count, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>The statement <see cref="InsertManyAndRecord"/> with its parameters, for a lock's batch.</summary>
    /// <exception cref="InvalidEntityIdException">An id PostgreSQL cannot store.</exception>
    public NpgsqlBatchCommand InsertManyAndRecordCommand(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents
    )
    {
        var command = new NpgsqlBatchCommand(InsertManyAndRecord);
        command.Parameters.AddRange(InsertManyParameters(entities, intents));
        return command;
    }

    /// <summary>
    /// The store's two arrays (ids, payloads), then the intents of the entities that have one, as five arrays.
    /// </summary>
    private NpgsqlParameter[] InsertManyParameters(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents
    )
    {
        ArgumentNullException.ThrowIfNull(intents);
        var (ids, payloads) = _table.InsertManyParameters(entities);
        var entityIds = new List<string>(entities.Count);
        var migrations = new List<string>(entities.Count);
        var kinds = new List<short>(entities.Count);
        var eventPayloads = new List<string?>(entities.Count);
        var recordedAt = new List<DateTime>(entities.Count);
        foreach (var (id, _) in entities)
        {
            if (intents.TryGetValue(id, out OutboxIntent? intent))
            {
                IntentOf(id, intent);
                entityIds.Add(id);
                migrations.Add(intent.Migration);
                kinds.Add((short)intent.Kind);
                eventPayloads.Add(intent.Payload);
                recordedAt.Add(intent.RecordedAt.UtcDateTime);
            }
        }

        return
        [
            ids,
            payloads,
            new NpgsqlParameter<string[]> { TypedValue = [.. entityIds] },
            new NpgsqlParameter<string[]> { TypedValue = [.. migrations] },
            new NpgsqlParameter<short[]> { TypedValue = [.. kinds] },
            new NpgsqlParameter<string?[]>
            {
                TypedValue = [.. eventPayloads],
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            },
            new NpgsqlParameter<DateTime[]>
            {
                TypedValue = [.. recordedAt],
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            },
        ];
    }

    /// <exception cref="ArgumentException">The intent names another entity than the write.</exception>
    private static OutboxIntent IntentOf(string id, OutboxIntent intent)
    {
        ArgumentNullException.ThrowIfNull(intent);
        return string.Equals(intent.EntityId, id, StringComparison.Ordinal)
            ? intent
            : throw new ArgumentException(
                $"The intent names entity '{intent.EntityId}', not '{id}', the entity written.",
                nameof(intent)
            );
    }
}
