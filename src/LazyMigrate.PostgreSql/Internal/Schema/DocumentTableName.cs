using System.Text.Json;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>The schema and table of one document store, checked, with the quoted form used in SQL text.</summary>
internal sealed class DocumentTableName
{
    private DocumentTableName(string schema, string table)
    {
        Schema = schema;
        Table = table;
        Qualified = $"{PostgreSqlIdentifier.Quote(schema, "schema")}.{PostgreSqlIdentifier.Quote(table, "table")}";
    }

    public string Schema { get; }

    public string Table { get; }

    /// <summary>Gets the quoted, schema-qualified name: <c>"public"."customer"</c>.</summary>
    public string Qualified { get; }

    /// <exception cref="ArgumentException">The schema or table name is invalid.</exception>
    public static DocumentTableName Of(string schema, string table) => new(schema, table);

    /// <summary>Resolves the table of an entity type: the option, or the type's name in snake_case.</summary>
    /// <exception cref="ArgumentException">The name is invalid, or none can be derived from the type name.</exception>
    public static DocumentTableName For(PostgreSqlDocumentStoreOptions options, Type entityType) =>
        new(options.Schema, options.TableName ?? DefaultTableName(entityType));

    /// <summary>
    /// Gets the table name derived from a type: <c>LegacyCustomer</c> becomes <c>legacy_customer</c>.
    /// </summary>
    public static string DefaultTableName(Type entityType)
    {
        string name = entityType.Name;
        int arity = name.IndexOf('`', StringComparison.Ordinal);
        string snake = JsonNamingPolicy.SnakeCaseLower.ConvertName(arity < 0 ? name : name[..arity]);
        return PostgreSqlIdentifier.IsValid(snake)
            ? snake
            : throw new ArgumentException(
                $"No PostgreSQL table name can be derived from the type name '{entityType.Name}' "
                    + $"('{snake}' is not {PostgreSqlIdentifier.Rule}): "
                    + $"set {nameof(PostgreSqlDocumentStoreOptions)}."
                    + $"{nameof(PostgreSqlDocumentStoreOptions.TableName)}.",
                nameof(entityType)
            );
    }

    public override string ToString() => Qualified;
}
