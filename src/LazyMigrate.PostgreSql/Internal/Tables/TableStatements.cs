namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of one existing table, built once per store. Names are checked and quoted; every value is a positional
/// parameter of the key's own type, so the key column is never cast and its index serves every statement.
/// </summary>
internal sealed class TableStatements
{
    public TableStatements(
        DocumentTableName table,
        string keyColumn,
        string keyType,
        IReadOnlyList<TableColumn> columns
    )
    {
        string t = table.Qualified;
        string key = PostgreSqlIdentifier.Quote(keyColumn, "column");
        string[] quoted = [.. columns.Select(c => PostgreSqlIdentifier.Quote(c.Name, "column"))];

        // The mapped columns at ordinals 0 to n - 1 and the key at n, the layout the mapping's reader expects.
        string select = $"SELECT {string.Join(", ", quoted.Append(key))} FROM {t}";
        Find = $"{select} WHERE {key} = $1";
        FindMany = $"{select} WHERE {key} = ANY($1)";
        ReadAlongColumns = string.Join(", ", quoted.Append(key).Select(c => "o." + c));
        QuotedKeyColumn = key;
        ScanFirst = $"{select} ORDER BY {key} LIMIT $1";
        ScanAfter = $"{select} WHERE {key} > $1 ORDER BY {key} LIMIT $2";

        // The scan's own conditions, so that a count after a cursor is what the scan from it will yield.
        CountAll = $"SELECT count(*) FROM {t}";
        CountAfter = $"SELECT count(*) FROM {t} WHERE {key} > $1";

        // Only the columns the mapping owns: any other column keeps its value on update and gets its DEFAULT on insert.
        string values = string.Join(", ", Enumerable.Range(1, quoted.Length + 1).Select(i => $"${i}"));
        string conflict =
            quoted.Length == 0
                ? "DO NOTHING"
                : "DO UPDATE SET " + string.Join(", ", quoted.Select(c => $"{c} = EXCLUDED.{c}"));
        // OVERRIDING SYSTEM VALUE lets an explicit key into a GENERATED ALWAYS AS IDENTITY column (and changes nothing
        // for any other column), as write-back of an entity created through the new API needs.
        Upsert =
            $"INSERT INTO {t} ({string.Join(", ", quoted.Prepend(key))}) OVERRIDING SYSTEM VALUE VALUES ({values}) "
            + $"ON CONFLICT ({key}) {conflict}";
        Delete = $"DELETE FROM {t} WHERE {key} = $1";

        // The batch forms: $1 the keys as an array of the key's type, then one array per column, each of the type
        // Npgsql gives its values (as for the single upsert's parameters), unnested into rows side by side.
        string arrays = string.Join(
            ", ",
            Enumerable.Range(2, quoted.Length).Select(i => $"${i}").Prepend($"$1::{keyType}[]")
        );
        UpsertMany =
            $"INSERT INTO {t} ({string.Join(", ", quoted.Prepend(key))}) OVERRIDING SYSTEM VALUE "
            + $"SELECT * FROM unnest({arrays}) ON CONFLICT ({key}) {conflict}";
        DeleteMany = $"DELETE FROM {t} WHERE {key} = ANY($1::{keyType}[])";

        // The key column's sequence, if any (serial or identity), as pg_get_serial_sequence names it.
        FindSequence =
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE c.oid = pg_get_serial_sequence($1, $2)::regclass";
        TableText = t;
        KeyColumn = keyColumn;
    }

    public string Find { get; }

    public string FindMany { get; }

    /// <summary>
    /// Gets the columns in the layout the mapping's reader expects, qualified by the alias <c>o</c>, for a new store's
    /// lock that reads the table along (<see cref="TableReadAlong{TOld}"/>).
    /// </summary>
    public string ReadAlongColumns { get; }

    /// <summary>Gets the key column, quoted.</summary>
    public string QuotedKeyColumn { get; }

    public string ScanFirst { get; }

    public string ScanAfter { get; }

    /// <summary>Gets the count of every row: what a scan from the start yields.</summary>
    public string CountAll { get; }

    /// <summary>Gets the count of the rows after a key: what a scan after it yields.</summary>
    public string CountAfter { get; }

    public string Upsert { get; }

    public string Delete { get; }

    /// <summary>Gets the upsert of many rows: <c>$1</c> the keys, then one array per mapped column, in order.</summary>
    public string UpsertMany { get; }

    /// <summary>Gets the delete of many rows: <c>$1</c> the keys.</summary>
    public string DeleteMany { get; }

    /// <summary>Gets the query of the key's sequence: <c>$1</c> the quoted table, <c>$2</c> the key column.</summary>
    public string FindSequence { get; }

    /// <summary>Gets the quoted table, as <c>pg_get_serial_sequence</c> parses it.</summary>
    public string TableText { get; }

    /// <summary>Gets the key column, unquoted, as <c>pg_get_serial_sequence</c> takes it.</summary>
    public string KeyColumn { get; }
}
