using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// An existing table (<see cref="PostgreSqlTableOldStore{TOld}"/>) as a new store's lock reads it along: the locked
/// ids become keys of the key column's own type, so its index serves the join; an id that is no canonical key reads
/// nothing.
/// </summary>
/// <typeparam name="TOld">The entity type of the old table.</typeparam>
internal sealed class TableReadAlong<TOld>(NpgsqlDataSource dataSource, TableMapping<TOld> mapping, TableStatements sql)
    : IReadAlongTable<TOld>
    where TOld : class
{
    private readonly int _keyOrdinal = mapping.Columns.Count;

    public NpgsqlDataSource DataSource => dataSource;

    public ReadAlongSql Sql { get; } =
        new(
            mapping.Table.Qualified,
            sql.ReadAlongColumns,
            mapping.Columns.Count + 1,
            mapping.Key.ParameterType,
            $"o.{sql.QuotedKeyColumn} = u.old_key"
        );

    /// <summary>The table is the legacy application's: the startup check, not the lock, finds it missing.</summary>
    public ValueTask EnsureSchemaAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public NpgsqlParameter Key(string id) => mapping.Key.ParameterOrNull(id);

    public NpgsqlParameter Keys(string[] ids) => mapping.Key.ArrayOrNulls(ids);

    public bool TryRead(NpgsqlDataReader reader, string id, out TOld? entity)
    {
        entity = reader.IsDBNull(_keyOrdinal) ? null : mapping.ReadEntity(reader, id);
        return entity is not null;
    }
}
