using System.Text.Json;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The hand-written baseline of the drain benchmarks: take up to 100 pending items of one kind at a time (the marks of
/// write-backs in the new table's rows, the outbox rows of forward syncs), read those entities from one table, map them
/// and upsert them into the other in one statement. No lease, no entity lock, no version check, no retry, and an item
/// is gone before it is applied: the least such a job does, not a safe one. <see cref="WriteBacks"/> copies the new
/// table to the old one, <see cref="ForwardSyncs"/> the old to the new.
/// </summary>
internal sealed class HandWrittenOutboxDrain
{
    private const int BatchSize = 100;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Func<string, string> _map;
    private readonly string _take;
    private readonly string _upsert;

    private HandWrittenOutboxDrain(
        NpgsqlDataSource dataSource,
        OutboxItemKind kind,
        string from,
        string to,
        Func<string, string> map
    )
    {
        _dataSource = dataSource;
        _map = map;
        // An Async write-back waits in its entity's row of the new table (writeback_pending), a forward sync in an
        // outbox row: each is taken, and gone, in the statement that reads the entities.
        _take =
            kind == OutboxItemKind.WriteBack
                ? $"WITH taken AS (UPDATE {from} SET writeback_pending = NULL, writeback_pending_since = NULL "
                    + $"WHERE id IN (SELECT id FROM {from} WHERE writeback_pending IS NOT NULL "
                    + $"LIMIT {BatchSize} FOR UPDATE SKIP LOCKED) RETURNING id, payload, deleted) "
                    + "SELECT id, payload FROM taken WHERE NOT deleted"
                : $"WITH taken AS (DELETE FROM {OutboxRepositories.OutboxTable} WHERE ctid IN "
                    + $"(SELECT ctid FROM {OutboxRepositories.OutboxTable} WHERE kind = {(int)kind} "
                    + $"LIMIT {BatchSize} FOR UPDATE SKIP LOCKED) "
                    + $"RETURNING entity_id) SELECT f.id, f.payload FROM {from} f "
                    + "JOIN taken t ON t.entity_id = f.id WHERE NOT f.deleted";
        _upsert =
            $"INSERT INTO {to} (id, payload, deleted, updated_at) "
            + "SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, deleted = false, updated_at = now()";
    }

    /// <summary>Write-backs: the new table's entities, reverse-mapped into the old table.</summary>
    public static HandWrittenOutboxDrain WriteBacks(NpgsqlDataSource dataSource) =>
        new(
            dataSource,
            OutboxItemKind.WriteBack,
            PostgresBench.NewTable,
            PostgresBench.OldTable,
            json => Serialize(NewProfile.ToOld(Deserialize<NewProfile>(json)))
        );

    /// <summary>Forward syncs: the old table's entities, mapped into the new table.</summary>
    public static HandWrittenOutboxDrain ForwardSyncs(NpgsqlDataSource dataSource) =>
        new(
            dataSource,
            OutboxItemKind.ForwardSync,
            PostgresBench.OldTable,
            PostgresBench.NewTable,
            json => Serialize(NewProfile.From(Deserialize<OldProfile>(json)))
        );

    /// <summary>Drains the outbox and returns how many entities it copied.</summary>
    public async Task<int> DrainAsync()
    {
        int copied = 0;
        while (true)
        {
            var ids = new List<string>(BatchSize);
            var payloads = new List<string>(BatchSize);
            await using (NpgsqlCommand take = _dataSource.CreateCommand(_take))
            await using (NpgsqlDataReader reader = await take.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetString(0));
                    payloads.Add(_map(reader.GetString(1)));
                }
            }

            if (ids.Count == 0)
            {
                return copied;
            }

            await using NpgsqlCommand upsert = _dataSource.CreateCommand(_upsert);
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

    private static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Json.Options)!;

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json.Options);
}
