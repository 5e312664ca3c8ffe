using System.Diagnostics;
using System.Threading.Channels;
using LazyMigrate.PostgreSql;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// Not LazyMigrate's: a capture of legacy writes without a trigger, to measure what that design would cost. A
/// publication of the legacy table's key column and a logical replication slot (PostgreSQL's own <c>pgoutput</c>),
/// read over Npgsql's replication protocol; each committed transaction's keys are appended to the outbox's captures
/// table, as the trigger appends them, gathered for up to <see cref="RecordInterval"/> into one statement (less once
/// the commits stop); the slot moves past a transaction once its captures committed.
/// </summary>
/// <remarks>
/// The table's replica identity is its primary key, so a delete comes as a key and an update of the key as the old key
/// and the new row; a table with <c>REPLICA IDENTITY FULL</c> (whole old rows) or a <c>TRUNCATE</c> (not published)
/// is not handled. What a library version would need beyond this, and this lacks: skipping LazyMigrate's own
/// write-backs (a transactional <c>pg_logical_emit_message</c> in each, read inside the transaction), and ordering a
/// capture against write-backs, whose sequence it takes only when it is read, after the write (see
/// docs/benchmarks.md).
/// </remarks>
internal sealed class SlotCaptureReader
{
    /// <summary>
    /// The longest the reader gathers transactions before it records their captures in one statement.
    /// </summary>
    public static readonly TimeSpan RecordInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a pause in the stream of commits ends a gathering early.</summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromMilliseconds(1);

    private const string Name = "legacy_capture";
    private const int BatchSize = 1000;

    private static readonly string Captures = $"{PostgreSqlOutboxOptions.DefaultTableName}_captures";

    private readonly string _connectionString;
    private readonly NpgsqlDataSource _outbox;
    private readonly string _migration;
    private long _captured;

    private SlotCaptureReader(string connectionString, NpgsqlDataSource outbox, string migration)
    {
        _connectionString = connectionString;
        _outbox = outbox;
        _migration = migration;
    }

    /// <summary>
    /// Gets or sets what is called, with <see cref="Captured"/>, each time a batch of captures committed.
    /// </summary>
    public Action<long>? Recorded { get; set; }

    /// <summary>Gets how many keys the reader recorded.</summary>
    public long Captured => Interlocked.Read(ref _captured);

    /// <summary>
    /// Publishes the key column <c>id</c> of <paramref name="table"/> (its primary key) and makes the slot; the server
    /// must be at <c>wal_level = logical</c>, the outbox's captures table there.
    /// </summary>
    public static async Task<SlotCaptureReader> CreateAsync(PostgresBench bench, string table, string migration)
    {
        foreach (
            string sql in (string[])
                [
                    $"CREATE PUBLICATION {Name} FOR TABLE {table} (id) WITH (publish = 'insert, update, delete')",
                    $"SELECT pg_create_logical_replication_slot('{Name}', 'pgoutput')",
                ]
        )
        {
            await using NpgsqlCommand command = bench.DataSource.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }

        return new SlotCaptureReader(bench.ConnectionString, bench.DataSource, migration);
    }

    /// <summary>Reads the slot until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var replication = new LogicalReplicationConnection(_connectionString);
        await replication.Open(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var committed = Channel.CreateBounded<Committed>(
            new BoundedChannelOptions(BatchSize) { SingleReader = true, SingleWriter = true }
        );
        Task recording = RecordAsync(committed.Reader, replication, stop);
        try
        {
            await ReadAsync(replication, committed.Writer, stop.Token);
        }
        finally
        {
            committed.Writer.TryComplete();
            await recording;
        }
    }

    private static async Task ReadAsync(
        LogicalReplicationConnection replication,
        ChannelWriter<Committed> committed,
        CancellationToken cancellationToken
    )
    {
        var keys = new List<string>();
        await foreach (
            PgOutputReplicationMessage message in replication.StartReplication(
                new PgOutputReplicationSlot(Name),
                new PgOutputReplicationOptions(Name, 1),
                cancellationToken
            )
        )
        {
            switch (message)
            {
                case BeginMessage:
                    keys = [];
                    break;
                case InsertMessage insert:
                    await AddKeyAsync(keys, insert.NewRow, cancellationToken);
                    break;
                case IndexUpdateMessage rekey:
                    await AddKeyAsync(keys, rekey.Key, cancellationToken);
                    await AddKeyAsync(keys, rekey.NewRow, cancellationToken);
                    break;
                case UpdateMessage update:
                    await AddKeyAsync(keys, update.NewRow, cancellationToken);
                    break;
                case KeyDeleteMessage delete:
                    await AddKeyAsync(keys, delete.Key, cancellationToken);
                    break;
                case CommitMessage commit:
                    await committed.WriteAsync(new Committed(keys, commit.TransactionEndLsn), cancellationToken);
                    break;
            }
        }
    }

    /// <summary>The publication carries the key column alone, so every value of the tuple is a key.</summary>
    private static async ValueTask AddKeyAsync(
        List<string> keys,
        ReplicationTuple row,
        CancellationToken cancellationToken
    )
    {
        await foreach (ReplicationValue value in row.WithCancellation(cancellationToken))
        {
            keys.Add(await value.Get<string>(cancellationToken));
        }
    }

    private async Task RecordAsync(
        ChannelReader<Committed> committed,
        LogicalReplicationConnection replication,
        CancellationTokenSource stop
    )
    {
        var ids = new List<string>();
        try
        {
            while (await committed.WaitToReadAsync(stop.Token))
            {
                ids.Clear();
                NpgsqlLogSequenceNumber end = await GatherAsync(committed, ids, stop.Token);

                await using (
                    NpgsqlCommand insert = _outbox.CreateCommand(
                        $"INSERT INTO {Captures} (migration, entity_id) SELECT $1, unnest($2::text[])"
                    )
                )
                {
                    insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _migration });
                    insert.Parameters.Add(
                        new NpgsqlParameter<List<string>>
                        {
                            TypedValue = ids,
                            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
                        }
                    );
                    await insert.ExecuteNonQueryAsync(stop.Token);
                }

                Recorded?.Invoke(Interlocked.Add(ref _captured, ids.Count));
                replication.SetReplicationStatus(end);
                await replication.SendStatusUpdate(stop.Token);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// Takes the transactions waiting, and those that follow within <see cref="IdleInterval"/> of each other, for up to
    /// <see cref="RecordInterval"/> or <see cref="BatchSize"/> keys: one statement for a stream of commits, and no
    /// wait once the stream stops (the last commits of a burst are recorded within a millisecond or two).
    /// </summary>
    /// <returns>Where the last transaction taken ends in the log.</returns>
    private static async Task<NpgsqlLogSequenceNumber> GatherAsync(
        ChannelReader<Committed> committed,
        List<string> ids,
        CancellationToken cancellationToken
    )
    {
        NpgsqlLogSequenceNumber end = default;
        long started = Stopwatch.GetTimestamp();
        while (ids.Count < BatchSize)
        {
            while (ids.Count < BatchSize && committed.TryRead(out Committed change))
            {
                ids.AddRange(change.Keys);
                end = change.End;
            }

            TimeSpan left = RecordInterval - Stopwatch.GetElapsedTime(started);
            if (ids.Count >= BatchSize || left <= TimeSpan.Zero)
            {
                break;
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(left < IdleInterval ? left : IdleInterval);
            try
            {
                if (!await committed.WaitToReadAsync(idle.Token))
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        return end;
    }

    /// <summary>The keys one committed transaction wrote, and where it ends in the log.</summary>
    private readonly record struct Committed(List<string> Keys, NpgsqlLogSequenceNumber End);
}
