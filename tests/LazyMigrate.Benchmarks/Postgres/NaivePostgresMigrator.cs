using System.Text.Json;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The hand-written baseline of the lazy-migration benchmarks: read the new table, on a miss read the old table, map,
/// and insert with <c>ON CONFLICT DO NOTHING</c>. No lock, no single-flight, no re-read of a lost insert, no event, no
/// resilience.
/// </summary>
internal sealed class NaivePostgresMigrator(NpgsqlDataSource dataSource)
{
    private readonly string _findNew = $"SELECT payload FROM {PostgresBench.NewTable} WHERE id = $1 AND NOT deleted";
    private readonly string _findOld = $"SELECT payload FROM {PostgresBench.OldTable} WHERE id = $1 AND NOT deleted";
    private readonly string _insert =
        $"INSERT INTO {PostgresBench.NewTable} (id, payload, deleted, updated_at) "
        + "VALUES ($1, $2, false, now()) ON CONFLICT (id) DO NOTHING";

    public async Task<NewProfile?> GetAsync(string id)
    {
        if (await ReadAsync(_findNew, id) is { } found)
        {
            return JsonSerializer.Deserialize<NewProfile>(found, Json.Options);
        }

        if (await ReadAsync(_findOld, id) is not { } legacy)
        {
            return null;
        }

        NewProfile mapped = NewProfile.From(JsonSerializer.Deserialize<OldProfile>(legacy, Json.Options)!);
        await using NpgsqlCommand insert = dataSource.CreateCommand(_insert);
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(
            new NpgsqlParameter
            {
                Value = JsonSerializer.Serialize(mapped, Json.Options),
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb,
            }
        );
        await insert.ExecuteNonQueryAsync();
        return mapped;
    }

    private async Task<string?> ReadAsync(string sql, string id)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        return await command.ExecuteScalarAsync() as string;
    }
}
