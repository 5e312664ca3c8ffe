using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// A document-layout old table (<see cref="PostgreSqlOldStore{TOld}"/>) as a new store's lock reads it along: keyed by
/// the id's text, a row marked deleted counts as absent.
/// </summary>
/// <typeparam name="TOld">The entity type of the old table.</typeparam>
internal sealed class DocumentTableReadAlong<TOld>(DocumentTable<TOld> table) : IReadAlongTable<TOld>
    where TOld : class
{
    public NpgsqlDataSource DataSource => table.DataSource;

    /// <summary>
    /// The payload and the id, which tells a live row without a payload (corrupt) from no row at all.
    /// </summary>
    public ReadAlongSql Sql { get; } =
        new(table.Name.Qualified, "o.payload AS old_payload, o.id AS old_id", 2, null, "o.id = u.id AND NOT o.deleted");

    public ValueTask EnsureSchemaAsync(CancellationToken cancellationToken) =>
        table.EnsureSchemaAsync(cancellationToken);

    public NpgsqlParameter? Key(string id) => null;

    public NpgsqlParameter? Keys(string[] ids) => null;

    public bool TryRead(NpgsqlDataReader reader, string id, out TOld? entity)
    {
        entity = reader.IsDBNull(1) ? null : table.ReadEntity(reader, 0, id);
        return entity is not null;
    }
}
