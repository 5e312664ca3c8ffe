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

    private readonly PostgresServer _server = new();
    private NpgsqlDataSource? _autoPreparing;
    private NpgsqlDataSource? _separate;
    private int _nextBatch;

    public NpgsqlDataSource DataSource => _server.DataSource;

    /// <summary>
    /// Gets a data source over the same database with a pool of its own: code that shares a process with the
    /// repositories runs on it so that it never gets their connections, which carry prepared statements.
    /// </summary>
    public NpgsqlDataSource SeparateDataSource => _separate ??= NpgsqlDataSource.Create(_server.ConnectionString);

    /// <summary>Gets a data source over the same database that prepares each statement from its first use (<c>Max Auto Prepare</c>).</summary>
    public NpgsqlDataSource AutoPreparingDataSource => _autoPreparing ??= NpgsqlDataSource.Create(
        new NpgsqlConnectionStringBuilder(_server.ConnectionString) { MaxAutoPrepare = 20, AutoPrepareMinUsages = 1 }.ConnectionString);

    public static async Task<PostgresBench> StartAsync()
    {
        var bench = new PostgresBench();
        await bench._server.InitializeAsync();
        return bench;
    }

    /// <summary>Inserts <paramref name="count"/> legacy rows with ids never used before, in one statement, and returns the ids.</summary>
    public async Task<string[]> SeedLegacyAsync(int count)
    {
        int batch = Interlocked.Increment(ref _nextBatch);
        string[] ids = Enumerable.Range(0, count).Select(i => $"b{batch:D4}-{i:D6}").ToArray();
        string[] payloads = ids.Select(id => System.Text.Json.JsonSerializer.Serialize(new OldProfile(id, "Ada Lovelace", 36), Json.Options)).ToArray();
        await using NpgsqlCommand insert = DataSource.CreateCommand(
            $"INSERT INTO {OldTable} (id, payload, deleted, updated_at) SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload)");
        insert.Parameters.Add(new NpgsqlParameter { Value = ids });
        insert.Parameters.Add(new NpgsqlParameter { Value = payloads, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb });
        await insert.ExecuteNonQueryAsync();
        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource? own in new[] { _autoPreparing, _separate })
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }

        await _server.DisposeAsync();
    }
}

/// <summary>The JSON settings both sides use: the adapter's default.</summary>
internal static class Json
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web);
}
