using System.Globalization;
using System.Text.Json;
using LazyMigrate.Benchmarks.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>
/// The backfill a developer writes by hand with Npgsql: a keyset page of the legacy table, the mapper in C#, one
/// <c>INSERT ... SELECT FROM unnest($1, $2) ON CONFLICT DO NOTHING</c> per page, 1,000 rows a page. No lock, no
/// re-read, no event, no checkpoint, no quarantine. Statements are prepared, as the stores prepare theirs.
/// </summary>
internal sealed class HandWrittenBackfill(NpgsqlDataSource dataSource)
{
    public const int BatchSize = 1000;

    private const string PageSql =
        "SELECT id, full_name, phone, credit_limit, updated_at FROM "
        + LegacyCustomers.Table
        + " WHERE id > $1 ORDER BY id LIMIT $2";

    private const string InsertSql =
        "INSERT INTO "
        + PostgresBackfill.NewTable
        + " (id, payload) SELECT u.id, u.payload FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
        + "ON CONFLICT (id) DO NOTHING";

    /// <summary>Migrates the whole table; returns the rows inserted.</summary>
    public async Task<long> RunAsync()
    {
        long inserted = 0;
        int after = 0;
        var ids = new List<string>(BatchSize);
        var payloads = new List<string>(BatchSize);
        while (true)
        {
            ids.Clear();
            payloads.Clear();
            await using (NpgsqlConnection connection = await dataSource.OpenConnectionAsync())
            {
                await using var page = new NpgsqlCommand(PageSql, connection);
                page.Parameters.Add(new NpgsqlParameter<int> { TypedValue = after });
                page.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
                await page.PrepareAsync();
                await using NpgsqlDataReader reader = await page.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var old = new LegacyCustomer(
                        reader.GetFieldValue<int>(0),
                        reader.GetFieldValue<string>(1),
                        reader.IsDBNull(2) ? null : reader.GetFieldValue<string>(2),
                        reader.GetFieldValue<int>(3),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)
                    );
                    after = old.Id;
                    ids.Add(old.Id.ToString(CultureInfo.InvariantCulture));
                    payloads.Add(JsonSerializer.Serialize(BackfilledCustomer.From(old), Json.Options));
                }
            }

            if (ids.Count == 0)
            {
                return inserted;
            }

            await using (NpgsqlConnection connection = await dataSource.OpenConnectionAsync())
            {
                await using var insert = new NpgsqlCommand(InsertSql, connection);
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. ids] });
                insert.Parameters.Add(
                    new NpgsqlParameter
                    {
                        Value = payloads.ToArray(),
                        NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
                    }
                );
                await insert.PrepareAsync();
                inserted += await insert.ExecuteNonQueryAsync();
            }

            if (ids.Count < BatchSize)
            {
                return inserted;
            }
        }
    }
}
