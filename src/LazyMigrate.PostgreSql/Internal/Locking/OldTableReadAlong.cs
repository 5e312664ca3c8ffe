using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// An old table that a new store's lock reads along with its re-read (both tables in one database), and the statement
/// that reads both (<see cref="StoreLockStatements"/>): an old row only for an id the new table lacks.
/// </summary>
/// <typeparam name="TOld">The entity type of the old table.</typeparam>
internal sealed class OldTableReadAlong<TOld>
    where TOld : class
{
    private OldTableReadAlong(IReadAlongTable<TOld> table, StoreLockStatements statements)
    {
        Table = table;
        Statements = statements;
    }

    public IReadAlongTable<TOld> Table { get; }

    /// <summary>Gets the lock's statements that read the new and the old table at once.</summary>
    public StoreLockStatements Statements { get; }

    /// <summary>
    /// Returns the read-along of <paramref name="oldStore"/> for a new table, or <see langword="null"/> when it cannot
    /// be read in the new table's batch: it is neither a <see cref="PostgreSqlOldStore{TOld}"/> nor a <see
    /// cref="PostgreSqlTableOldStore{TOld}"/>, or its data source points elsewhere (another connection string).
    /// </summary>
    public static OldTableReadAlong<TOld>? For<TNew>(IOldStore<TOld> oldStore, DocumentTable<TNew> newTable)
        where TNew : class
    {
        if (
            oldStore is not IReadAlongOldStore<TOld> { ReadAlongTable: var oldTable }
            || !(
                ReferenceEquals(oldTable.DataSource, newTable.DataSource)
                || string.Equals(
                    oldTable.DataSource.ConnectionString,
                    newTable.DataSource.ConnectionString,
                    StringComparison.Ordinal
                )
            )
        )
        {
            return null;
        }

        return new OldTableReadAlong<TOld>(oldTable, new StoreLockStatements(newTable.Name, oldTable.Sql));
    }
}

/// <summary>An old store whose table a new store's lock can read along, when both are in one database.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
internal interface IReadAlongOldStore<TOld>
    where TOld : class
{
    IReadAlongTable<TOld> ReadAlongTable { get; }
}

/// <summary>
/// What a new store's lock needs of an old table to read it in its own read statement, whatever the table's layout:
/// its data source (for the same-database check), its part of the statement (<see cref="ReadAlongSql"/>), the key
/// parameters of the locked ids, and the reader of its columns into an entity.
/// </summary>
/// <typeparam name="TOld">The entity type of the old table.</typeparam>
internal interface IReadAlongTable<TOld>
    where TOld : class
{
    NpgsqlDataSource DataSource { get; }

    ReadAlongSql Sql { get; }

    /// <summary>Completes when the table is there.</summary>
    ValueTask EnsureSchemaAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The old key of one locked id, of <see cref="ReadAlongSql.KeyType"/>; <see langword="null"/> when the old table
    /// is keyed by the id's text itself. A key that cannot be the id's (not in canonical form) is a null value.
    /// </summary>
    NpgsqlParameter? Key(string id);

    /// <summary>The old keys of the locked ids, in their order, as <see cref="Key"/> makes each.</summary>
    NpgsqlParameter? Keys(string[] ids);

    /// <summary>
    /// Reads the old table's columns of the current row (ordinals 0 to <see cref="ReadAlongSql.ColumnCount"/> - 1):
    /// <see langword="false"/> when the join found no old row for <paramref name="id"/>.
    /// </summary>
    /// <exception cref="CorruptPayloadException">The old row does not read as <typeparamref name="TOld"/>.</exception>
    bool TryRead(NpgsqlDataReader reader, string id, out TOld? entity);
}

/// <summary>
/// An old table's part of the lock's read statement (<see cref="StoreLockStatements"/>), where <c>o</c> is the old
/// table and <c>u</c> the locked ids (<c>u.id</c>, and <c>u.old_key</c> with a <see cref="KeyType"/>).
/// </summary>
/// <param name="Table">The quoted, schema-qualified old table.</param>
/// <param name="Columns">The columns read first, before the new table's: <c>o.</c>-qualified, comma-separated.</param>
/// <param name="ColumnCount">How many columns <paramref name="Columns"/> holds.</param>
/// <param name="KeyType">The SQL type of the old key when it is not the id's text, else <see langword="null"/>.</param>
/// <param name="Match">The join condition of the old row of an id (live rows only).</param>
internal sealed record ReadAlongSql(string Table, string Columns, int ColumnCount, string? KeyType, string Match);

/// <summary>Stands for the old entity type of a new-store lock that reads no old table.</summary>
internal sealed class NoOldTable
{
    private NoOldTable() { }
}
