using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Asks the catalog whether an existing table can serve a <see cref="TableMapping{TOld}"/>: the table exists, the key
/// column has the key type and a unique index of its own (an upsert's <c>ON CONFLICT</c> needs one), and every mapped
/// column exists with a type compatible with its property. One query; every problem found is named.
/// </summary>
internal static class TableSchemaCheck
{
    // One row per column of the table (a domain reads as its base type), each with whether a unique, immediate,
    // non-partial index has exactly that column as its key; one row of NULLs when the table does not exist.
    private const string Columns =
        "SELECT r.oid IS NOT NULL, a.attname, bt.typname, EXISTS (SELECT 1 FROM pg_index i "
        + "WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1 "
        + "AND i.indkey[0] = a.attnum AND i.indpred IS NULL AND i.indexprs IS NULL) "
        + "FROM (SELECT to_regclass($1) AS oid) AS r "
        + "LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped "
        + "LEFT JOIN pg_type t ON t.oid = a.atttypid "
        + "LEFT JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END";

    /// <summary>Lists what is wrong with the table for the mapping; empty when nothing is.</summary>
    public static async Task<List<string>> ProblemsAsync<TOld>(
        NpgsqlDataSource dataSource,
        TableMapping<TOld> mapping,
        CancellationToken cancellationToken
    )
        where TOld : class
    {
        var found = new Dictionary<string, (string Type, bool Unique)>(StringComparer.Ordinal);
        bool exists = false;
        NpgsqlCommand command = dataSource.CreateCommand(Columns);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = mapping.Table.Qualified });
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    exists = reader.GetBoolean(0);
                    if (!reader.IsDBNull(1))
                    {
                        found[reader.GetString(1)] = (reader.GetString(2), reader.GetBoolean(3));
                    }
                }
            }
        }

        if (!exists)
        {
            return [$"the table {mapping.Table.Qualified} does not exist"];
        }

        var problems = new List<string>();
        TableKey key = mapping.Key;
        if (!found.TryGetValue(mapping.KeyColumn, out var keyColumn))
        {
            problems.Add($"the key column \"{mapping.KeyColumn}\" is missing");
        }
        else
        {
            if (!key.ColumnTypes.Contains(keyColumn.Type, StringComparer.Ordinal))
            {
                problems.Add(
                    $"the key column \"{mapping.KeyColumn}\" is {keyColumn.Type}, not {Either(key.ColumnTypes)} "
                        + $"(KeyType {key.Type})"
                );
            }

            if (!keyColumn.Unique)
            {
                problems.Add(
                    $"the key column \"{mapping.KeyColumn}\" is neither the primary key nor has a unique index of its "
                        + "own, which an upsert's ON CONFLICT needs"
                );
            }
        }

        foreach (TableColumn column in mapping.Columns)
        {
            string member = column.Property is null ? "" : $" ({typeof(TOld).Name}.{column.Property})";
            if (!found.TryGetValue(column.Name, out var actual))
            {
                problems.Add($"the column \"{column.Name}\"{member} is missing");
            }
            else if (
                column.Type is not null
                && TableColumnTypes.For(column.Type) is { } compatible
                && !compatible.Contains(actual.Type, StringComparer.Ordinal)
            )
            {
                problems.Add(
                    $"the column \"{column.Name}\"{member} is {actual.Type}, which a property of type "
                        + $"{Name(column.Type)} cannot read from ({Either(compatible)} would do)"
                );
            }
        }

        return problems;
    }

    private static string Either(IReadOnlyList<string> types) => string.Join(" or ", types);

    private static string Name(Type type) =>
        Nullable.GetUnderlyingType(type) is { } value ? $"{value.Name}?" : type.Name;
}
