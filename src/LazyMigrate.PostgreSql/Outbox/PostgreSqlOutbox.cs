using System.Collections.Concurrent;
using System.Data;
using LazyMigrate.Outbox;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// A durable outbox in one PostgreSQL table, shared by any number of migrations and instances: dispatchers claim items
/// with <c>FOR UPDATE SKIP LOCKED</c> into leases, and complete a batch in one statement.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Every call is one statement, and one round trip, on a pooled connection of the data source; every
/// time is the caller's, sent as a parameter. See docs/postgresql.md.</para>
/// <para>A <see cref="PostgreSqlOutboxNewStore{TNew}"/> on the same database writes its intents in the statement that
/// writes the entity, so neither commits without the other.</para>
/// </remarks>
public sealed class PostgreSqlOutbox : IMigrationOutbox
{
    private readonly StatementRunner _statements;
    private readonly SchemaGate _schema;
    private readonly ConcurrentDictionary<string, PendingWriteBacks> _pendingWriteBacks = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlOutbox"/> class.</summary>
    /// <param name="dataSource">The data source; the outbox does not dispose it.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PostgreSqlOutbox(
        NpgsqlDataSource dataSource,
        PostgreSqlOutboxOptions? options = null,
        ILoggerFactory? loggerFactory = null
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlOutboxOptions();
        PostgreSqlOutboxOptionsValidator.ThrowIfInvalid(options);
        DataSource = dataSource;
        Sql = new OutboxStatements(DocumentTableName.Of(options.Schema, options.TableName));
        _statements = new StatementRunner(dataSource, options.PrepareStatements);
        ILogger logger = loggerFactory?.CreateLogger(PostgreSqlLog.Category) ?? NullLogger.Instance;
        // The captures table, created last, says the script ran whole: an outbox made before it had one gets it too.
        _schema = new SchemaGate(
            dataSource,
            Sql.Captures.Table,
            PostgreSqlOutboxSchema.CreateScript(Sql.Table),
            options.CreateSchema,
            logger,
            logCreated: l => PostgreSqlLog.OutboxCreated(l, Sql.Table.Qualified, Sql.Captures.Table.Qualified)
        );
    }

    /// <summary>
    /// Gets the quoted, schema-qualified table name, for example <c>"public"."lazymigrate_outbox"</c>.
    /// </summary>
    public string TableName => Sql.Table.Qualified;

    internal NpgsqlDataSource DataSource { get; }

    internal OutboxStatements Sql { get; }

    /// <inheritdoc/>
    /// <remarks>One statement: <c>INSERT ... ON CONFLICT (migration, kind, entity_id) DO UPDATE ... RETURNING
    /// version</c>.</remarks>
    public async ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intent);
        PostgreSqlEntityIds.Validate(intent.EntityId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await ReadVersionAsync(_statements, Sql.Record, OutboxRows.Intent(intent), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One statement in a read committed transaction of its own, one round trip: <c>UPDATE ...
    /// WHERE (key) IN (SELECT ... ORDER BY next_attempt_at LIMIT $n FOR UPDATE SKIP LOCKED) RETURNING ...</c>, over
    /// the index of due items. The same transaction first folds the legacy writes a forward sync trigger captured into
    /// items (up to ten times <c>$n</c>) and, for a migration whose <c>Async</c> writes record their
    /// write-backs in their rows, makes up to <c>$n</c> of those items (the oldest); both skip rows other transactions
    /// hold.</remarks>
    public async ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(claim);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        PendingWriteBacks? pending = await PendingWriteBacksOfAsync(claim.Migration, cancellationToken)
            .ConfigureAwait(false);

        // Read committed whatever the database's default: SKIP LOCKED and the re-check of a row another claim leased
        // meanwhile are what keep claims apart, and a stricter level would fail them instead. The write-backs pending
        // in rows become items first, in the same transaction, so the claim sees them.
        var claimCommand = new NpgsqlBatchCommand(Sql.Claim)
        {
            Parameters =
            {
                OutboxRows.Text(claim.Migration),
                OutboxRows.Text(claim.Owner),
                OutboxRows.Time(claim.Now),
                OutboxRows.Time(claim.LeaseUntil),
                OutboxRows.Int(claim.MaxItems),
            },
        };
        var fold = new NpgsqlBatchCommand(Sql.Captures.Fold)
        {
            Parameters = { OutboxRows.Text(claim.Migration), OutboxRows.Int(CapturesFolded(claim.MaxItems)) },
        };
        NpgsqlBatchCommand[] commands = pending is null
            ? [new(StoreLockSql.Begin), fold, claimCommand, new(StoreLockSql.Commit)]
            :
            [
                new(StoreLockSql.Begin),
                fold,
                pending.TakeOverDueCommand(claim.Migration, claim.MaxItems),
                claimCommand,
                new(StoreLockSql.Commit),
            ];

        // Up to the COMMIT's completion: only committed leases count.
        return await ReadItemsAsync(commands, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One statement for the whole batch, over arrays of the items' keys, versions and lease owners.</remarks>
    public async ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return 0;
        }

        string[] migrations = new string[items.Count];
        short[] kinds = new short[items.Count];
        string[] ids = new string[items.Count];
        long[] versions = new long[items.Count];
        string?[] owners = new string?[items.Count];
        int i = 0;
        // In key order, the order a fold of captures writes its items in: two statements that lock several items
        // never take them in opposite orders.
        foreach (OutboxItem item in items.OrderBy(item => item, KeyOrder.Instance))
        {
            migrations[i] = item.Migration;
            kinds[i] = (short)item.Kind;
            ids[i] = item.EntityId;
            versions[i] = item.Version;
            owners[i++] = item.LeaseOwner;
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(
                Sql.Complete,
                [
                    new NpgsqlParameter<string[]> { TypedValue = migrations },
                    new NpgsqlParameter<short[]> { TypedValue = kinds },
                    new NpgsqlParameter<string[]> { TypedValue = ids },
                    new NpgsqlParameter<long[]> { TypedValue = versions },
                    new NpgsqlParameter<string?[]> { TypedValue = owners },
                ],
                CommandBehavior.SingleRow,
                cancellationToken
            )
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return reader.GetInt32(0);
        }
    }

    /// <inheritdoc/>
    public ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(error);
        return ExecuteAsync(
            Sql.Reschedule,
            [.. Leased(item), OutboxRows.Text(error), OutboxRows.Time(nextAttemptAt)],
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(OutboxItem item, string error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(error);
        return ExecuteAsync(
            Sql.DeadLetter,
            [.. Leased(item), OutboxRows.Text(error), new NpgsqlParameter<long> { TypedValue = item.Version }],
            cancellationToken
        );
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
        string migration,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return await ReadItemsAsync(
                Sql.ListDeadLetters,
                [OutboxRows.Text(migration), OutboxRows.Int(limit)],
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One statement: <c>SELECT ... WHERE migration = $1 AND entity_id = ANY($2)</c>, over the primary key,
    /// with the ids' captured legacy writes (reported as pending forward syncs, ordered by the latest). For a migration
    /// whose <c>Async</c> writes record their write-backs in their rows, the same statement reads the ids' marks too
    /// (taking no lock), and a marked write-back is reported pending.</remarks>
    public async ValueTask<IReadOnlyList<OutboxItem>> FindAsync(
        string migration,
        IReadOnlyCollection<string> entityIds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentNullException.ThrowIfNull(entityIds);
        if (entityIds.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        // The ids' captured legacy writes, and their write-backs pending in their rows, are read beside the items, in
        // the same statement.
        PendingWriteBacks? pending = await PendingWriteBacksOfAsync(migration, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<OutboxItem> items = await ReadItemsAsync(
                pending?.Find ?? Sql.Find,
                [OutboxRows.Text(migration), OutboxRows.TextArray(entityIds)],
                cancellationToken
            )
            .ConfigureAwait(false);
        return MarkedItems.Merge(items);
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReplayDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return entityIds is null
            ? await _statements
                .ExecuteNonQueryAsync(
                    Sql.ReplayAll,
                    [OutboxRows.Text(migration), OutboxRows.Time(now)],
                    cancellationToken
                )
                .ConfigureAwait(false)
            : await _statements
                .ExecuteNonQueryAsync(
                    Sql.ReplaySome,
                    [OutboxRows.Text(migration), OutboxRows.Time(now), OutboxRows.TextArray(entityIds)],
                    cancellationToken
                )
                .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<int> PurgeDeadLettersAsync(
        string migration,
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return entityIds is null
            ? await _statements
                .ExecuteNonQueryAsync(Sql.PurgeAll, [OutboxRows.Text(migration)], cancellationToken)
                .ConfigureAwait(false)
            : await _statements
                .ExecuteNonQueryAsync(
                    Sql.PurgeSome,
                    [OutboxRows.Text(migration), OutboxRows.TextArray(entityIds)],
                    cancellationToken
                )
                .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<OutboxStatistics> GetStatisticsAsync(
        string migration,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        // With write-backs pending in rows, their count comes in the same statement, as more pending write-backs.
        PendingWriteBacks? rows = await PendingWriteBacksOfAsync(migration, cancellationToken).ConfigureAwait(false);
        var pending = new Dictionary<OutboxItemKind, long>();
        var oldest = new Dictionary<OutboxItemKind, DateTimeOffset>();
        var dead = new Dictionary<OutboxItemKind, long>();
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(
                rows?.Statistics ?? Sql.Statistics,
                [OutboxRows.Text(migration)],
                CommandBehavior.Default,
                cancellationToken
            )
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var kind = (OutboxItemKind)reader.GetInt16(0);
                if (reader.GetBoolean(1))
                {
                    dead[kind] = reader.GetInt64(2);
                    continue;
                }

                DateTimeOffset first = reader.GetFieldValue<DateTimeOffset>(3);
                pending[kind] = pending.GetValueOrDefault(kind) + reader.GetInt64(2);
                oldest[kind] = oldest.TryGetValue(kind, out DateTimeOffset other) && other < first ? other : first;
            }
        }

        return new OutboxStatistics(pending, oldest, dead);
    }

    /// <summary>
    /// The captures a claim folds into items: ten times what it claims, so that a backlog of captured legacy writes
    /// (a dispatcher stopped for a while) becomes items faster than the dispatcher applies them.
    /// </summary>
    private static int CapturesFolded(int maxItems) => (int)Math.Min(int.MaxValue, 10L * maxItems);

    /// <summary>
    /// Has this outbox read the write-backs that <paramref name="migration"/>'s <c>Async</c> writes record in their
    /// rows of <paramref name="table"/> (see <see cref="PendingWriteBacks"/>) when it claims, finds or counts that
    /// migration's items, whatever the migration's mode is now: marks an earlier <c>Async</c> run left are read after
    /// a switch to <c>Sync</c> too. The table is on this outbox's database.
    /// </summary>
    internal void ReadPendingWriteBacksOf(
        string migration,
        DocumentTableName table,
        Func<CancellationToken, ValueTask> ensureTable
    ) => _pendingWriteBacks[migration] = new PendingWriteBacks(table, ensureTable, Sql);

    private async ValueTask<PendingWriteBacks?> PendingWriteBacksOfAsync(
        string migration,
        CancellationToken cancellationToken
    )
    {
        if (!_pendingWriteBacks.TryGetValue(migration, out PendingWriteBacks? pending))
        {
            return null;
        }

        await pending.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        return pending;
    }

    /// <summary>Completes when the table is there (created first with <see
    /// cref="PostgreSqlOutboxOptions.CreateSchema"/>).</summary>
    internal ValueTask EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureAsync(cancellationToken);

    /// <summary>Gets whether a data source reaches this outbox's database: the same one, or one with the same
    /// connection string.</summary>
    internal bool SharesDatabaseWith(NpgsqlDataSource dataSource) =>
        ReferenceEquals(dataSource, DataSource)
        || string.Equals(dataSource.ConnectionString, DataSource.ConnectionString, StringComparison.Ordinal);

    /// <summary>Runs a statement that returns one version (a record, alone or with a store's write).</summary>
    internal static async ValueTask<long> ReadVersionAsync(
        StatementRunner statements,
        string sql,
        NpgsqlParameter[] parameters,
        CancellationToken cancellationToken
    )
    {
        NpgsqlDataReader reader = await statements
            .ExecuteReaderAsync(sql, parameters, CommandBehavior.SingleRow, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return reader.GetInt64(0);
        }
    }

    /// <summary>The order of the table's primary key: migration, kind, entity id, the texts in "C" (code point) order.
    /// </summary>
    private sealed class KeyOrder : IComparer<OutboxItem>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(OutboxItem? x, OutboxItem? y)
        {
            int order = CodePointOrder.Compare(x!.Migration, y!.Migration);
            order = order != 0 ? order : x.Kind.CompareTo(y.Kind);
            return order != 0 ? order : CodePointOrder.Compare(x.EntityId, y.EntityId);
        }
    }

    private static NpgsqlParameter[] Leased(OutboxItem item) =>
        [
            OutboxRows.Text(item.Migration),
            OutboxRows.Kind(item.Kind),
            OutboxRows.Text(item.EntityId),
            OutboxRows.NullableText(item.LeaseOwner),
        ];

    private async ValueTask ExecuteAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await _statements.ExecuteNonQueryAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="commands"/> in one batch, one round trip, and reads the items of the first that returns
    /// rows; then waits for every command to complete.
    /// </summary>
    private async ValueTask<IReadOnlyList<OutboxItem>> ReadItemsAsync(
        NpgsqlBatchCommand[] commands,
        CancellationToken cancellationToken
    )
    {
        NpgsqlConnection connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlBatch batch = new(connection);
            await using (batch.ConfigureAwait(false))
            {
                foreach (NpgsqlBatchCommand command in commands)
                {
                    batch.BatchCommands.Add(command);
                }

                await _statements.PrepareAsync(batch, cancellationToken).ConfigureAwait(false);
                NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    IReadOnlyList<OutboxItem> items = await OutboxRows
                        .ReadAllAsync(reader, cancellationToken)
                        .ConfigureAwait(false);
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)) { }
                    return items;
                }
            }
        }
    }

    private async ValueTask<IReadOnlyList<OutboxItem>> ReadItemsAsync(
        string sql,
        NpgsqlParameter[] parameters,
        CancellationToken cancellationToken
    )
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlDataReader reader = await _statements
            .ExecuteReaderAsync(sql, parameters, CommandBehavior.Default, cancellationToken)
            .ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await OutboxRows.ReadAllAsync(reader, cancellationToken).ConfigureAwait(false);
        }
    }
}
