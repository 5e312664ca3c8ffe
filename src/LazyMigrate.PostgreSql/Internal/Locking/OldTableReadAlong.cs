namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// An old table that a new store's lock reads along with its re-read (both tables in one database), and the statement
/// that reads both (<see cref="StoreLockStatements"/>): an old row only for an id the new table lacks.
/// </summary>
/// <typeparam name="TOld">The entity type of the old table.</typeparam>
internal sealed class OldTableReadAlong<TOld>
    where TOld : class
{
    private OldTableReadAlong(DocumentTable<TOld> table, StoreLockStatements statements)
    {
        Table = table;
        Statements = statements;
    }

    public DocumentTable<TOld> Table { get; }

    /// <summary>Gets the lock's statements that read the new and the old table at once.</summary>
    public StoreLockStatements Statements { get; }

    /// <summary>
    /// Returns the read-along of <paramref name="oldStore"/> for a new table, or <see langword="null"/> when it cannot
    /// be read in the new table's batch: it is not a <see cref="PostgreSqlOldStore{TOld}"/>, or its data source points
    /// elsewhere (another connection string).
    /// </summary>
    public static OldTableReadAlong<TOld>? For<TNew>(IOldStore<TOld> oldStore, DocumentTable<TNew> newTable)
        where TNew : class
    {
        if (
            oldStore is not PostgreSqlOldStore<TOld> { Table: var oldTable }
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

        return new OldTableReadAlong<TOld>(oldTable, new StoreLockStatements(newTable.Name, oldTable.Name));
    }
}

/// <summary>Stands for the old entity type of a new-store lock that reads no old table.</summary>
internal sealed class NoOldTable
{
    private NoOldTable() { }
}
