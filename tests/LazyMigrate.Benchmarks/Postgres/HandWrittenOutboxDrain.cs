using System.Text.Json;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The hand-written baseline of the drain benchmark: take up to 100 outbox rows at a time and delete them, read those
/// entities from the new table, reverse-map them and upsert them into the old table in one statement. No lease, no
/// entity lock, no version check, no retry, and an item is gone before it is applied: the least a write-back job
/// does, not a safe one.
/// </summary>
internal sealed class HandWrittenOutboxDrain(NpgsqlDataSource dataSource)
{
    private const int BatchSize = 100;

    private static readonly string Take =
        $"WITH taken AS (DELETE FROM {OutboxRepositories.OutboxTable} WHERE ctid IN "
        + $"(SELECT ctid FROM {OutboxRepositories.OutboxTable} LIMIT {BatchSize} FOR UPDATE SKIP LOCKED) "
        + $"RETURNING entity_id) SELECT n.id, n.payload FROM {PostgresBench.NewTable} n "
        + "JOIN taken t ON t.entity_id = n.id WHERE NOT n.deleted";

    private static readonly string Upsert =
        $"INSERT INTO {PostgresBench.OldTable} (id, payload, deleted, updated_at) "
        + "SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
        + "ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, deleted = false, updated_at = now()";

    /// <summary>Drains the outbox and returns how many entities it copied.</summary>
    public async Task<int> DrainAsync()
    {
        int copied = 0;
        while (true)
        {
            var ids = new List<string>(BatchSize);
            var payloads = new List<string>(BatchSize);
            await using (NpgsqlCommand take = dataSource.CreateCommand(Take))
            await using (NpgsqlDataReader reader = await take.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    var profile = JsonSerializer.Deserialize<NewProfile>(reader.GetString(1), Json.Options)!;
                    ids.Add(reader.GetString(0));
                    payloads.Add(JsonSerializer.Serialize(NewProfile.ToOld(profile), Json.Options));
                }
            }

            if (ids.Count == 0)
            {
                return copied;
            }

            await using NpgsqlCommand upsert = dataSource.CreateCommand(Upsert);
            upsert.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            upsert.Parameters.Add(
                new NpgsqlParameter
                {
                    Value = payloads.ToArray(),
                    NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb,
                }
            );
            await upsert.ExecuteNonQueryAsync();
            copied += ids.Count;
        }
    }
}
