using System.Data;
using System.Globalization;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// What a developer writes by hand to read <see cref="LegacyCustomers.Table"/> with Npgsql: typed parameters, one
/// <c>GetFieldValue</c> per column, the record built directly. Each statement is prepared on its pooled connection, as
/// the table store prepares its own (<c>PrepareStatements</c>, on by default), so the two compare like with like.
/// </summary>
internal sealed class HandWrittenCustomerReads(NpgsqlDataSource dataSource, int pageSize)
{
    private const string Select = "SELECT id, full_name, phone, credit_limit, updated_at FROM legacy_customers";
    private const string FindSql = Select + " WHERE id = $1";
    private const string FindManySql = Select + " WHERE id = ANY($1)";
    private const string PageSql = Select + " WHERE id > $1 ORDER BY id LIMIT $2";

    public async Task<LegacyCustomer?> FindAsync(int id)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(FindSql, connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
        await command.PrepareAsync();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow);
        return await reader.ReadAsync() ? Row(reader) : null;
    }

    public async Task<Dictionary<int, LegacyCustomer>> FindManyAsync(int[] ids)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(FindManySql, connection);
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = ids });
        await command.PrepareAsync();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        var found = new Dictionary<int, LegacyCustomer>(ids.Length);
        while (await reader.ReadAsync())
        {
            LegacyCustomer row = Row(reader);
            found[row.Id] = row;
        }

        return found;
    }

    /// <summary>The keyset loop over the whole table, <c>pageSize</c> rows a query; returns the count.</summary>
    public async Task<int> ScanAsync()
    {
        int rows = 0;
        var page = new List<LegacyCustomer>(pageSize);
        do
        {
            await ReadPageAsync(page.Count == 0 ? 0 : page[^1].Id, page);
            rows += page.Count;
        } while (page.Count == pageSize);

        return rows;
    }

    /// <summary>
    /// The same keyset loop in the table store's shape: ids as strings, each page a new list of pairs, yielded
    /// through an async iterator. The difference to <see cref="ScanAsync"/> is what that shape costs.
    /// </summary>
    public async IAsyncEnumerable<KeyValuePair<string, LegacyCustomer>> ScanPairsAsync()
    {
        var rows = new List<LegacyCustomer>(pageSize);
        do
        {
            await ReadPageAsync(rows.Count == 0 ? 0 : rows[^1].Id, rows);
            var page = new List<KeyValuePair<string, LegacyCustomer>>(rows.Count);
            foreach (LegacyCustomer row in rows)
            {
                page.Add(new(row.Id.ToString(CultureInfo.InvariantCulture), row));
            }

            foreach (KeyValuePair<string, LegacyCustomer> row in page)
            {
                yield return row;
            }
        } while (rows.Count == pageSize);
    }

    /// <summary>Replaces <paramref name="page"/>'s rows with the page after key <paramref name="after"/>.</summary>
    private async Task ReadPageAsync(int after, List<LegacyCustomer> page)
    {
        page.Clear();
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(PageSql, connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = after });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pageSize });
        await command.PrepareAsync();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            page.Add(Row(reader));
        }
    }

    private static LegacyCustomer Row(NpgsqlDataReader reader) =>
        new(
            reader.GetFieldValue<int>(0),
            reader.GetFieldValue<string>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<string>(2),
            reader.GetFieldValue<int>(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)
        );
}
