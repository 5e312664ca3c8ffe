using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Asks the catalog whether an existing table can serve a <see cref="TableMapping{TOld}"/>: the table exists, the key
/// column has the key type and a unique index of its own (an upsert's <c>ON CONFLICT</c> needs one), every mapped
/// column exists with a type compatible with its property and is one a write can set (not generated, not an identity
/// <c>GENERATED ALWAYS</c> besides the key), and no column the mapping leaves out is NOT NULL without a default (every
/// insert would fail). One query; every problem found is named.
/// </summary>
internal static class TableSchemaCheck
{
    // One row per column of the table (a domain reads as its base type), each with whether a unique, immediate,
    // non-partial index has exactly that column as its key, whether it is generated or an identity GENERATED ALWAYS,
    // and whether it is NOT NULL without a default; one row of NULLs when the relation does not exist.
    private const string Columns =
        "SELECT r.oid IS NOT NULL, c.relkind::text, a.attname, bt.typname, EXISTS (SELECT 1 FROM pg_index i "
        + "WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1 "
        + "AND i.indkey[0] = a.attnum AND i.indpred IS NULL AND i.indexprs IS NULL), "
        + "a.attgenerated <> '', a.attidentity = 'a', "
        + "a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' "
        + "FROM (SELECT to_regclass($1) AS oid) AS r "
        + "LEFT JOIN pg_class c ON c.oid = r.oid "
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
        var found = new Dictionary<string, ColumnFacts>(StringComparer.Ordinal);
        bool exists = false;
        string? kind = null;
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
                    kind = reader.IsDBNull(1) ? null : reader.GetString(1);
                    if (!reader.IsDBNull(2))
                    {
                        found[reader.GetString(2)] = new ColumnFacts(
                            reader.GetString(3),
                            reader.GetBoolean(4),
                            reader.GetBoolean(5),
                            reader.GetBoolean(6),
                            reader.GetBoolean(7)
                        );
                    }
                }
            }
        }

        if (!exists)
        {
            return [$"the table {mapping.Table.Qualified} does not exist"];
        }

        // An ordinary or a partitioned table; a view or a materialized view passes to_regclass but fails writes.
        if (kind is not ("r" or "p"))
        {
            return [$"{mapping.Table.Qualified} is {KindName(kind)}, not a table"];
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
                continue;
            }

            if (actual.Generated)
            {
                problems.Add($"the column \"{column.Name}\"{member} is generated, which no write can set");
            }
            else if (actual.AlwaysIdentity)
            {
                problems.Add(
                    $"the column \"{column.Name}\"{member} is GENERATED ALWAYS AS IDENTITY, which an upsert's update "
                        + "cannot set"
                );
            }

            if (
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

        var owned = new HashSet<string>(mapping.Columns.Select(c => c.Name), StringComparer.Ordinal)
        {
            mapping.KeyColumn,
        };
        foreach ((string name, ColumnFacts facts) in found)
        {
            if (facts.RequiredWithoutDefault && !owned.Contains(name))
            {
                problems.Add(
                    $"the column \"{name}\" is NOT NULL without a default and the mapping does not write it, so "
                        + "every insert would fail"
                );
            }
        }

        return problems;
    }

    private static string KindName(string? relkind) =>
        relkind switch
        {
            "v" => "a view",
            "m" => "a materialized view",
            "f" => "a foreign table",
            "S" => "a sequence",
            "i" or "I" => "an index",
            "c" => "a composite type",
            _ => $"a relation of kind '{relkind}'",
        };

    private sealed record ColumnFacts(
        string Type,
        bool Unique,
        bool Generated,
        bool AlwaysIdentity,
        bool RequiredWithoutDefault
    );

    private static string Either(IReadOnlyList<string> types) => string.Join(" or ", types);

    private static string Name(Type type) =>
        Nullable.GetUnderlyingType(type) is { } value ? $"{value.Name}?" : type.Name;
}
