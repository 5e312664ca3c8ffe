using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>A row of <see cref="LegacyCustomers.Table"/> as the old model holds it (columns by convention).</summary>
public sealed record LegacyCustomer(int Id, string FullName, string? Phone, int CreditLimit, DateTimeOffset? UpdatedAt);

/// <summary>
/// The ordinary legacy table of the table-store benchmarks, with typed columns and a serial key, filled and analyzed.
/// </summary>
internal static class LegacyCustomers
{
    public const string Table = "legacy_customers";

    public static async Task CreateAsync(NpgsqlDataSource dataSource, int rows)
    {
        await using (
            NpgsqlCommand create = dataSource.CreateCommand(
                $"CREATE TABLE {Table} (id serial PRIMARY KEY, full_name text NOT NULL, phone text, "
                    + "credit_limit integer NOT NULL DEFAULT 0, updated_at timestamptz DEFAULT now())"
            )
        )
        {
            await create.ExecuteNonQueryAsync();
        }

        // Every tenth customer has no phone, so the nullable column is read both ways.
        await using (
            NpgsqlCommand insert = dataSource.CreateCommand(
                $"INSERT INTO {Table} (full_name, phone, credit_limit) SELECT 'Customer ' || i, "
                    + "CASE WHEN i % 10 = 0 THEN NULL ELSE '+44 20 7946 ' || lpad(i::text, 4, '0') END, i % 5000 "
                    + "FROM generate_series(1, $1) AS i"
            )
        )
        {
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = rows });
            await insert.ExecuteNonQueryAsync();
        }

        await using NpgsqlCommand analyze = dataSource.CreateCommand($"ANALYZE {Table}");
        await analyze.ExecuteNonQueryAsync();
    }
}
