using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using Microsoft.Data.Sqlite;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>
/// The backfill a developer writes by hand with Microsoft.Data.Sqlite: a keyset page of the legacy table
/// (<c>WHERE id &gt; @last ORDER BY id LIMIT 1000</c>), the mapper in C#, then one transaction per page of 1,000
/// single-row <c>INSERT ... ON CONFLICT DO NOTHING</c>s into the new table the EF Core store uses. One connection for
/// the run, both statements prepared once and reused. No lock, no entries row (the claim the EF Core store writes
/// beside each entity), no event, no checkpoint, no quarantine.
/// </summary>
internal sealed class HandWrittenSqliteBackfill(string connectionString)
{
    public const int BatchSize = 1000;

    private const string PageSql =
        "SELECT id, full_name, phone, credit_limit, updated_at FROM "
        + SqliteBackfill.LegacyTable
        + " WHERE id > @last ORDER BY id LIMIT @limit";

    private const string InsertSql =
        "INSERT INTO "
        + SqliteBackfill.NewTable
        + " (\"Id\", \"FirstName\", \"LastName\", \"Phone\", \"CreditLimit\") "
        + "VALUES (@id, @first_name, @last_name, @phone, @credit_limit) ON CONFLICT DO NOTHING";

    /// <summary>Migrates the whole table; returns the rows inserted.</summary>
    public async Task<long> RunAsync()
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();

        await using SqliteCommand page = connection.CreateCommand();
        page.CommandText = PageSql;
        SqliteParameter last = page.Parameters.Add("@last", SqliteType.Integer);
        page.Parameters.AddWithValue("@limit", BatchSize);
        last.Value = 0;
        page.Prepare();

        await using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = InsertSql;
        SqliteParameter id = insert.Parameters.Add("@id", SqliteType.Text);
        SqliteParameter firstName = insert.Parameters.Add("@first_name", SqliteType.Text);
        SqliteParameter lastName = insert.Parameters.Add("@last_name", SqliteType.Text);
        SqliteParameter phone = insert.Parameters.Add("@phone", SqliteType.Text);
        SqliteParameter creditLimit = insert.Parameters.Add("@credit_limit", SqliteType.Integer);
        insert.Prepare();

        long inserted = 0;
        int after = 0;
        var batch = new List<(int Id, BackfilledCustomer Customer)>(BatchSize);
        while (true)
        {
            batch.Clear();
            last.Value = after;
            await using (SqliteDataReader reader = await page.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    var old = new LegacyCustomer(
                        reader.GetInt32(0),
                        reader.GetString(1),
                        reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetInt32(3),
                        reader.IsDBNull(4) ? null : reader.GetDateTimeOffset(4)
                    );
                    after = old.Id;
                    batch.Add((old.Id, BackfilledCustomer.From(old)));
                }
            }

            if (batch.Count == 0)
            {
                return inserted;
            }

            await using (SqliteTransaction transaction = connection.BeginTransaction())
            {
                insert.Transaction = transaction;
                foreach ((int key, BackfilledCustomer customer) in batch)
                {
                    id.Value = key.ToString(CultureInfo.InvariantCulture);
                    firstName.Value = customer.FirstName;
                    lastName.Value = customer.LastName;
                    phone.Value = (object?)customer.Phone ?? DBNull.Value;
                    creditLimit.Value = customer.CreditLimit;
                    inserted += await insert.ExecuteNonQueryAsync();
                }

                await transaction.CommitAsync();
            }

            insert.Transaction = null;
            if (batch.Count < BatchSize)
            {
                return inserted;
            }
        }
    }
}
