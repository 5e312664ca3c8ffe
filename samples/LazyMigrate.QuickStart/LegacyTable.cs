using System.Data.Common;
using System.Globalization;

namespace LazyMigrate.QuickStart;

/// <summary>
/// A row of <c>legacy_customers</c> as the legacy application reads it with plain SQL: every column, the ones the old
/// model maps and the ones it does not.
/// </summary>
public sealed record LegacyRow(int Id, string FullName, string? Phone, int CreditLimit, string? UpdatedAt);

/// <summary>
/// The legacy application's own table and its own plain SQL on it, outside LazyMigrate: the team created the table
/// long ago, seeded it, and still inserts into it with the key the table assigns.
/// </summary>
/// <param name="openConnection">Makes a connection to the legacy database (not yet open).</param>
/// <param name="table">
/// The table's name, schema-qualified where the database has schemas: a constant of the sample, never input.
/// </param>
/// <param name="keyColumnType">The key's type as the DDL says it: an auto-incrementing integer.</param>
/// <param name="timestampType">The type of <c>updated_at</c>.</param>
/// <param name="now">The SQL expression of the current time, <c>updated_at</c>'s default.</param>
public sealed class LegacyTable(
    Func<DbConnection> openConnection,
    string table,
    string keyColumnType,
    string timestampType,
    string now
)
{
    /// <summary>The <c>updated_at</c> of every seeded row: long before this run, so any rewrite of it shows.</summary>
    public const string SeededAt = "2019-06-01 08:00:00";

    /// <summary>The table's name, unqualified, as the stores are told it.</summary>
    public const string Name = "legacy_customers";

    private const string Columns = "id, full_name, phone, credit_limit, CAST(updated_at AS text)";

    /// <summary>The table in a SQLite database: the key is the rowid, timestamps are text.</summary>
    public static LegacyTable OnSqlite(Func<DbConnection> openConnection) =>
        new(openConnection, Name, "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "CURRENT_TIMESTAMP");

    /// <summary>The table in a schema of a PostgreSQL database: the key from a sequence.</summary>
    /// <param name="openConnection">Makes a connection to the database (not yet open).</param>
    /// <param name="schema">The schema: a constant of the sample, never input.</param>
    public static LegacyTable OnPostgres(Func<DbConnection> openConnection, string schema) =>
        new(openConnection, $"{schema}.{Name}", "serial PRIMARY KEY", "timestamptz", "now()");

    /// <summary>
    /// Creates the table as the legacy team did, with plain DDL, and seeds <paramref name="records"/> customers in one
    /// transaction; the table gives them the keys 1 to <paramref name="records"/>.
    /// </summary>
    public async Task CreateAsync(int records)
    {
        await using DbConnection connection = await OpenAsync();

        // The table and its rows in one transaction (both databases have transactional DDL): a seed that dies half way
        // leaves no table, so the next start seeds again.
        await using DbTransaction transaction = await connection.BeginTransactionAsync();
        await using (
            DbCommand create = Command(
                connection,
                $"CREATE TABLE {table} (id {keyColumnType}, full_name text NOT NULL, phone text, "
                    + $"credit_limit integer NOT NULL DEFAULT {LegacyCustomers.DefaultCreditLimit}, "
                    + $"updated_at {timestampType} DEFAULT {now})"
            )
        )
        {
            create.Transaction = transaction;
            await create.ExecuteNonQueryAsync();
        }

        await using DbCommand insert = Command(
            connection,
            $"INSERT INTO {table} (full_name, phone, credit_limit, updated_at) "
                + $"VALUES (@full_name, @phone, @credit_limit, '{SeededAt}')"
        );
        insert.Transaction = transaction;
        DbParameter fullName = Parameter(insert, "full_name", "");
        DbParameter phone = Parameter(insert, "phone", "");
        DbParameter creditLimit = Parameter(insert, "credit_limit", 0);
        for (int n = 1; n <= records; n++)
        {
            LegacyCustomer customer = LegacyCustomers.Create(n, records);
            (fullName.Value, phone.Value, creditLimit.Value) = (
                customer.FullName,
                customer.Phone,
                customer.CreditLimit
            );
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>
    /// The legacy application's read of one customer, every column; <see langword="null"/> when absent.
    /// </summary>
    public Task<LegacyRow?> FindAsync(string id) =>
        FindAsync(int.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture));

    /// <inheritdoc cref="FindAsync(string)"/>
    public async Task<LegacyRow?> FindAsync(int id, CancellationToken cancellationToken = default)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken);
        await using DbCommand select = Command(connection, $"SELECT {Columns} FROM {table} WHERE id = @id");
        Parameter(select, "id", id);
        await using DbDataReader row = await select.ExecuteReaderAsync(cancellationToken);
        return await row.ReadAsync(cancellationToken) ? Row(row) : null;
    }

    /// <summary>
    /// The legacy application's page of customers: at most <paramref name="limit"/> rows with a key past
    /// <paramref name="after"/>, in key order.
    /// </summary>
    public async Task<List<LegacyRow>> ListAsync(int after, int limit, CancellationToken cancellationToken = default)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken);
        await using DbCommand select = Command(
            connection,
            $"SELECT {Columns} FROM {table} WHERE id > @after ORDER BY id LIMIT @limit"
        );
        Parameter(select, "after", after);
        Parameter(select, "limit", limit);
        await using DbDataReader rows = await select.ExecuteReaderAsync(cancellationToken);
        var page = new List<LegacyRow>();
        while (await rows.ReadAsync(cancellationToken))
        {
            page.Add(Row(rows));
        }

        return page;
    }

    /// <summary>
    /// The legacy application's save of a customer under its key: inserted when absent, else every mapped column
    /// replaced; <c>updated_at</c> is set to now either way.
    /// </summary>
    public async Task UpsertAsync(int id, LegacyCustomer customer, CancellationToken cancellationToken = default)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken);
        await using DbCommand upsert = Command(
            connection,
            $"INSERT INTO {table} (id, full_name, phone, credit_limit, updated_at) "
                + $"VALUES (@id, @full_name, @phone, @credit_limit, {now}) ON CONFLICT (id) DO UPDATE SET "
                + "full_name = excluded.full_name, phone = excluded.phone, credit_limit = excluded.credit_limit, "
                + $"updated_at = {now}"
        );
        Parameter(upsert, "id", id);
        Parameter(upsert, "full_name", customer.FullName);
        Parameter(upsert, "phone", customer.Phone);
        Parameter(upsert, "credit_limit", customer.CreditLimit);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The legacy application's delete of a customer; <see langword="false"/> when it was absent.</summary>
    public async Task<bool> DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken);
        await using DbCommand delete = Command(connection, $"DELETE FROM {table} WHERE id = @id");
        Parameter(delete, "id", id);
        return await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>
    /// The legacy application's own insert of a new customer: it names neither the key (the table assigns it, from
    /// its sequence or its rowid) nor the credit limit and <c>updated_at</c> (their defaults). Returns the key.
    /// </summary>
    public async Task<string> InsertAsync(string fullName, string phone)
    {
        await using DbConnection connection = await OpenAsync();
        await using DbCommand insert = Command(
            connection,
            $"INSERT INTO {table} (full_name, phone) VALUES (@full_name, @phone) RETURNING id"
        );
        Parameter(insert, "full_name", fullName);
        Parameter(insert, "phone", phone);
        object? key = await insert.ExecuteScalarAsync();
        return Convert.ToString(key, CultureInfo.InvariantCulture)!;
    }

    public async Task<int> CountAsync()
    {
        await using DbConnection connection = await OpenAsync();
        await using DbCommand count = Command(connection, $"SELECT count(*) FROM {table}");
        return Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Every key of the table, as entity ids.</summary>
    public async Task<List<string>> IdsAsync()
    {
        await using DbConnection connection = await OpenAsync();
        await using DbCommand select = Command(connection, $"SELECT id FROM {table}");
        await using DbDataReader rows = await select.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await rows.ReadAsync())
        {
            ids.Add(rows.GetInt32(0).ToString(CultureInfo.InvariantCulture));
        }

        return ids;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = openConnection();
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static LegacyRow Row(DbDataReader row) =>
        new(
            row.GetInt32(0),
            row.GetString(1),
            row.IsDBNull(2) ? null : row.GetString(2),
            row.GetInt32(3),
            row.IsDBNull(4) ? null : row.GetString(4)
        );

    private static DbCommand Command(DbConnection connection, string sql)
    {
        DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private static DbParameter Parameter(DbCommand command, string name, object value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
