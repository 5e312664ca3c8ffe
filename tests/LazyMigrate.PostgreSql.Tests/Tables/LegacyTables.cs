using LazyMigrate.TestKit;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// Legacy tables as a legacy application made them (typed columns, a sequence or default key, a column LazyMigrate
/// does not map), each test on a fresh one.
/// </summary>
internal static class LegacyTables
{
    /// <summary>The key column's definition per key type: serial, bigserial, a uuid with a default, "C" text.</summary>
    public static string KeyDefinition(PostgreSqlKeyType keyType) =>
        keyType switch
        {
            PostgreSqlKeyType.Integer => "id serial PRIMARY KEY",
            PostgreSqlKeyType.BigInt => "id bigserial PRIMARY KEY",
            PostgreSqlKeyType.Uuid => "id uuid PRIMARY KEY DEFAULT gen_random_uuid()",
            _ => "id text COLLATE \"C\" PRIMARY KEY",
        };

    /// <summary>
    /// Creates <c>(key, full_name text NOT NULL, version integer NOT NULL, updated_at timestamptz DEFAULT now(),
    /// flags integer NOT NULL DEFAULT 7)</c> and returns its name.
    /// </summary>
    public static async Task<string> CreateCustomersAsync(NpgsqlDataSource dataSource, PostgreSqlKeyType keyType)
    {
        string table = TestDatabase.UniqueTable("legacy");
        await dataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" ({KeyDefinition(keyType)}, full_name text NOT NULL, "
                + "version integer NOT NULL, updated_at timestamptz DEFAULT now(), flags integer NOT NULL DEFAULT 7)"
        );
        return table;
    }

    /// <summary>The options that map <see cref="LegacyCustomer"/> (Id, FullName, Version) to such a table.</summary>
    public static PostgreSqlTableStoreOptions<LegacyCustomer> CustomerOptions(
        string table,
        PostgreSqlKeyType keyType
    ) => new() { TableName = table, KeyType = keyType };

    public static async Task<PostgreSqlTableOldStore<LegacyCustomer>> CustomerStoreAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlKeyType keyType
    )
    {
        string table = await CreateCustomersAsync(dataSource, keyType);
        return new PostgreSqlTableOldStore<LegacyCustomer>(dataSource, CustomerOptions(table, keyType));
    }

    /// <summary>The unquoted name inside a store's quoted table name.</summary>
    public static string Unquoted(string qualified) => qualified.Split('.')[1].Trim('"');

    /// <summary>
    /// The plan of a statement with its parameters, in a session with <c>enable_seqscan = off</c>: so the plan shows a
    /// sequential scan only where no index can serve the statement.
    /// </summary>
    public static async Task<string> ExplainAsync(
        this NpgsqlDataSource dataSource,
        string sql,
        params NpgsqlParameter[] parameters
    )
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand($"EXPLAIN (FORMAT TEXT) {sql}", connection);
        explain.Parameters.AddRange(parameters);
        var lines = new List<string>();
        await using (NpgsqlDataReader reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        await using (var reset = new NpgsqlCommand("RESET enable_seqscan", connection))
        {
            await reset.ExecuteNonQueryAsync();
        }

        return $"{sql}\n{string.Join('\n', lines)}";
    }
}
