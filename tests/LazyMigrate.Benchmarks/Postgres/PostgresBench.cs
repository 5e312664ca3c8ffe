using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The PostgreSQL server of one benchmark class: a throwaway server (the tests' own fixture), the old and new tables
/// the adapter creates, and fresh legacy rows on demand.
/// </summary>
internal sealed class PostgresBench : IAsyncDisposable
{
    public const string OldTable = "old_profiles";
    public const string NewTable = "new_profiles";

    private readonly PostgresServer _server;
    private readonly List<NpgsqlDataSource> _ownPools = [];
    private NpgsqlDataSource? _autoPreparing;
    private int _nextBatch;

    public NpgsqlDataSource DataSource => _server.DataSource;

    /// <summary>Gets the server's connection string (a superuser, who may also read replication slots).</summary>
    public string ConnectionString => _server.ConnectionString;

    /// <summary>
    /// Creates a data source over the same database with a pool of its own, for one way of migrating among several in
    /// one process: a pool that others used holds connections they prepared statements on and more idle connections,
    /// and Npgsql hands idle connections out in turn, so each command would wake another server backend.
    /// </summary>
    public NpgsqlDataSource OwnPool()
    {
        NpgsqlDataSource pool = NpgsqlDataSource.Create(_server.ConnectionString);
        lock (_ownPools)
        {
            _ownPools.Add(pool);
        }

        return pool;
    }

    /// <summary>
    /// Gets a data source over the same database that prepares each statement from its first use (<c>Max Auto
    /// Prepare</c>).
    /// </summary>
    public NpgsqlDataSource AutoPreparingDataSource =>
        _autoPreparing ??= NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(_server.ConnectionString)
            {
                MaxAutoPrepare = 20,
                AutoPrepareMinUsages = 1,
            }.ConnectionString
        );

    private PostgresBench(PostgresServer server) => _server = server;

    /// <summary>Starts a throwaway server; <paramref name="durable"/> keeps fsync and synchronous commit on.</summary>
    public static Task<PostgresBench> StartAsync(bool durable = false) =>
        StartAsync(new PostgresServer { Durable = durable });

    /// <summary>Starts a throwaway server set as <paramref name="server"/> says.</summary>
    public static async Task<PostgresBench> StartAsync(PostgresServer server)
    {
        var bench = new PostgresBench(server);
        await bench._server.InitializeAsync();
        return bench;
    }

    /// <summary>
    /// Inserts <paramref name="count"/> legacy rows with ids never used before, in one statement, and returns the ids.
    /// </summary>
    public async Task<string[]> SeedLegacyAsync(int count)
    {
        int batch = Interlocked.Increment(ref _nextBatch);
        string[] ids = Enumerable.Range(0, count).Select(i => $"b{batch:D4}-{i:D6}").ToArray();
        string[] payloads = ids.Select(id =>
                System.Text.Json.JsonSerializer.Serialize(new OldProfile(id, "Ada Lovelace", 36), Json.Options)
            )
            .ToArray();
        await using NpgsqlCommand insert = DataSource.CreateCommand(
            $"INSERT INTO {OldTable} (id, payload, deleted, updated_at) "
                + "SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload)"
        );
        insert.Parameters.Add(new NpgsqlParameter { Value = ids });
        insert.Parameters.Add(
            new NpgsqlParameter
            {
                Value = payloads,
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb,
            }
        );
        await insert.ExecuteNonQueryAsync();
        return ids;
    }

    /// <summary>
    /// Throws unless exactly <paramref name="expected"/> rows of <paramref name="table"/> hold <paramref name="age"/>:
    /// a drain benchmark's check that every item it timed reached its table.
    /// </summary>
    public void CheckAges(string table, int age, int expected, string what)
    {
        using NpgsqlCommand count = DataSource.CreateCommand(
            $"SELECT count(*) FROM {table} WHERE (payload->>'age')::int = $1"
        );
        count.Parameters.Add(new NpgsqlParameter { Value = age });
        long applied = (long)count.ExecuteScalar()!;
        if (applied != expected)
        {
            throw new InvalidOperationException($"{applied} of {expected} {what} reached {table}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource own in _autoPreparing is null ? _ownPools : [.. _ownPools, _autoPreparing])
        {
            await own.DisposeAsync();
        }

        await _server.DisposeAsync();
    }
}

/// <summary>The JSON settings both sides use: the adapter's default.</summary>
internal static class Json
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new(
        System.Text.Json.JsonSerializerDefaults.Web
    );
}
