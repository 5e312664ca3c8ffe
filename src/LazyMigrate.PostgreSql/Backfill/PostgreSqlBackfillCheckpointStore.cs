using LazyMigrate.Backfill;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// Backfill checkpoints, leases and quarantine in two PostgreSQL tables (<see cref="PostgreSqlBackfillSchema"/>),
/// shared by every instance of a service. Every call is one statement; times are the callers' (never <c>now()</c>),
/// ids compare in the "C" collation, so the quarantine lists in ordinal order.
/// </summary>
public sealed class PostgreSqlBackfillCheckpointStore : IBackfillCheckpointStore
{
    private const string Counts = "scanned, migrated, already_present, vanished, quarantined";
    private readonly NpgsqlDataSource _dataSource;
    private readonly SchemaGate _schema;
    private readonly string _load;
    private readonly string _acquire;
    private readonly string _save;
    private readonly string _release;
    private readonly string _quarantine;
    private readonly string _list;
    private readonly string _clear;
    private readonly string _checkColumns;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlBackfillCheckpointStore"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">A schema or table name is invalid.</exception>
    public PostgreSqlBackfillCheckpointStore(
        NpgsqlDataSource dataSource,
        PostgreSqlBackfillCheckpointOptions? options = null,
        ILoggerFactory? loggerFactory = null
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlBackfillCheckpointOptions();
        _dataSource = dataSource;
        var (checkpoints, quarantine) = PostgreSqlBackfillSchema.Tables(options);
        _schema = new SchemaGate(
            dataSource,
            quarantine,
            PostgreSqlBackfillSchema.CreateScript(options),
            options.CreateSchema,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("LazyMigrate.PostgreSql.Backfill"),
            logCreated: l => PostgreSqlLog.BackfillTablesCreated(l, checkpoints.Qualified, quarantine.Qualified)
        );
        string c = checkpoints.Qualified;
        string q = quarantine.Qualified;
        const string Row = $"cursor_id, {Counts}, is_complete, updated_at, saved, lease_owner";
        _load = $"SELECT {Row} FROM {c} WHERE migration = $1";

        // One statement: take the lease if it is free, lapsed or the caller's; otherwise read who holds it. A row
        // another instance inserted after this statement's snapshot is seen by neither part: no row, not acquired.
        _acquire =
            $"WITH taken AS (INSERT INTO {c} AS c (migration, lease_owner, lease_expires_at) VALUES ($1, $2, $3) "
            + "ON CONFLICT (migration) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, "
            + "lease_expires_at = EXCLUDED.lease_expires_at "
            + "WHERE c.lease_owner IS NULL OR c.lease_owner = EXCLUDED.lease_owner OR c.lease_expires_at <= $4 "
            + $"RETURNING {Row}) "
            + $"SELECT true, {Row} FROM taken "
            + $"UNION ALL SELECT false, {Row} FROM {c} WHERE migration = $1 AND NOT EXISTS (SELECT FROM taken)";
        _save =
            $"UPDATE {c} SET cursor_id = $3, scanned = $4, migrated = $5, already_present = $6, vanished = $7, "
            + "quarantined = $8, is_complete = $9, updated_at = $10, saved = true, lease_expires_at = $11 "
            + "WHERE migration = $1 AND lease_owner = $2";
        _release =
            $"UPDATE {c} SET lease_owner = NULL, lease_expires_at = NULL WHERE migration = $1 AND lease_owner = $2";
        _quarantine =
            $"INSERT INTO {q} AS q (migration, entity_id, error, quarantined_at, attempts) "
            + "SELECT $1, u.id, u.error, u.at, u.attempts "
            + "FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::integer[]) AS u(id, error, at, attempts) "
            + "ON CONFLICT (migration, entity_id) DO UPDATE SET error = EXCLUDED.error, "
            + "quarantined_at = EXCLUDED.quarantined_at, attempts = q.attempts + EXCLUDED.attempts";
        _list =
            $"SELECT entity_id, error, quarantined_at, attempts FROM {q} "
            + "WHERE migration = $1 AND ($2::text IS NULL OR entity_id > $2) ORDER BY entity_id LIMIT $3";
        _clear = $"DELETE FROM {q} WHERE migration = $1 AND entity_id = ANY($2)";
        _checkColumns =
            $"SELECT migration, {Row}, lease_expires_at FROM {c} LIMIT 0; "
            + $"SELECT migration, entity_id, error, quarantined_at, attempts FROM {q} LIMIT 0";
        Tables = $"{c} and {q}";
    }

    /// <summary>Gets both tables' qualified names, for errors.</summary>
    internal string Tables { get; }

    /// <summary>
    /// Creates the tables if the options say so, then reads no row of each with every column the store uses: fails
    /// as the first batch would on a missing table or column.
    /// </summary>
    internal async Task CheckSchemaAsync(CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand(_checkColumns);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<BackfillCheckpoint?> LoadAsync(
        string migration,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand(_load);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(migration));
        NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? ReadCheckpoint(reader, migration, 0)
            : null;
    }

    /// <inheritdoc/>
    public async ValueTask<BackfillLeaseResult> TryAcquireAsync(
        string migration,
        string owner,
        DateTimeOffset expiresAt,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand(_acquire);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(migration));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(Time(expiresAt));
        command.Parameters.Add(Time(now));
        NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return new BackfillLeaseResult(false, null, null);
        }

        bool acquired = reader.GetBoolean(0);
        return new BackfillLeaseResult(
            acquired,
            ReadCheckpoint(reader, migration, 1),
            reader.IsDBNull(10) ? null : reader.GetString(10)
        );
    }

    /// <inheritdoc/>
    public async ValueTask<bool> SaveAsync(
        BackfillCheckpoint checkpoint,
        string owner,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        BackfillCounts counts = checkpoint.Counts;
        long[] values = [counts.Scanned, counts.Migrated, counts.AlreadyPresent, counts.Vanished, counts.Quarantined];
        int saved = await ExecuteAsync(
                _save,
                p =>
                {
                    p.Add(Text(checkpoint.Migration));
                    p.Add(Text(owner));
                    p.Add(NullableText(checkpoint.Cursor));
                    foreach (long value in values)
                    {
                        p.Add(new NpgsqlParameter<long> { TypedValue = value });
                    }

                    p.Add(new NpgsqlParameter<bool> { TypedValue = checkpoint.IsComplete });
                    p.Add(Time(checkpoint.UpdatedAt));
                    p.Add(Time(expiresAt));
                },
                cancellationToken
            )
            .ConfigureAwait(false);
        return saved == 1;
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(string migration, string owner, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync(
                _release,
                p =>
                {
                    p.Add(Text(migration));
                    p.Add(Text(owner));
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask QuarantineAsync(
        string migration,
        IReadOnlyCollection<QuarantinedEntity> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        if (entities.Count == 0)
        {
            return;
        }

        // ON CONFLICT cannot touch a row twice in one statement: an id given twice counts both attempts, the last
        // error stands.
        var distinct = new Dictionary<string, QuarantinedEntity>(StringComparer.Ordinal);
        foreach (QuarantinedEntity entity in entities)
        {
            distinct[entity.EntityId] = distinct.TryGetValue(entity.EntityId, out QuarantinedEntity? earlier)
                ? entity with
                {
                    Attempts = earlier.Attempts + entity.Attempts,
                }
                : entity;
        }

        QuarantinedEntity[] rows = [.. distinct.Values];
        await ExecuteAsync(
                _quarantine,
                p =>
                {
                    p.Add(Text(migration));
                    p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(e => e.EntityId)] });
                    p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(e => e.Error)] });
                    p.Add(
                        new NpgsqlParameter<DateTimeOffset[]>
                        {
                            TypedValue = [.. rows.Select(e => e.QuarantinedAt.ToUniversalTime())],
                        }
                    );
                    p.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(e => e.Attempts)] });
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string migration,
        string? afterId,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await QueryAsync<IReadOnlyList<QuarantinedEntity>>(
                _list,
                p =>
                {
                    p.Add(Text(migration));
                    p.Add(NullableText(afterId));
                    p.Add(new NpgsqlParameter<int> { TypedValue = limit });
                },
                async (reader, ct) =>
                {
                    var entities = new List<QuarantinedEntity>();
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        entities.Add(
                            new QuarantinedEntity(
                                reader.GetString(0),
                                reader.GetString(1),
                                reader.GetFieldValue<DateTimeOffset>(2),
                                reader.GetInt32(3)
                            )
                        );
                    }

                    return entities;
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask ClearQuarantinedAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entityIds);
        if (entityIds.Count == 0)
        {
            return;
        }

        await ExecuteAsync(
                _clear,
                p =>
                {
                    p.Add(Text(migration));
                    p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. entityIds] });
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>A saved checkpoint from the row's columns from <paramref name="first"/> on, else null.</summary>
    private static BackfillCheckpoint? ReadCheckpoint(NpgsqlDataReader reader, string migration, int first)
    {
        if (!reader.GetBoolean(first + 8))
        {
            return null;
        }

        return new BackfillCheckpoint
        {
            Migration = migration,
            Cursor = reader.IsDBNull(first) ? null : reader.GetString(first),
            Counts = new BackfillCounts
            {
                Scanned = reader.GetInt64(first + 1),
                Migrated = reader.GetInt64(first + 2),
                AlreadyPresent = reader.GetInt64(first + 3),
                Vanished = reader.GetInt64(first + 4),
                Quarantined = reader.GetInt64(first + 5),
            },
            IsComplete = reader.GetBoolean(first + 6),
            UpdatedAt = reader.GetFieldValue<DateTimeOffset>(first + 7),
        };
    }

    private async ValueTask<int> ExecuteAsync(
        string sql,
        Action<NpgsqlParameterCollection> bind,
        CancellationToken cancellationToken
    )
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            bind(command.Parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<T> QueryAsync<T>(
        string sql,
        Action<NpgsqlParameterCollection> bind,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken
    )
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlCommand command = _dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            bind(command.Parameters);
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await read(reader, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static NpgsqlParameter NullableText(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static NpgsqlParameter<DateTimeOffset> Time(DateTimeOffset value) =>
        new() { TypedValue = value.ToUniversalTime() };
}
