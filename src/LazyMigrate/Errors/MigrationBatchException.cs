namespace LazyMigrate;

/// <summary>
/// Some or all ids of a <see cref="IMigratingRepository{TOld, TNew}.GetManyAsync"/> failed; the others were read. Catch
/// <see cref="MigrationBatchException{TNew}"/> to get what was read.
/// </summary>
/// <remarks>
/// <para>
/// <c>GetManyAsync</c> reports every typed failure this way, a failure of the whole batch too (a lock timeout, a store
/// outage): then every id it concerned is in <see cref="Failures"/> with that one error.
/// </para>
/// <para>
/// <see cref="LazyMigrationException.EntityId"/> is the first failed id <see cref="Failures"/> enumerates and
/// <see cref="Exception.InnerException"/> its failure (the cause: a mapping, lock timeout or store error);
/// <see cref="Failures"/> names every failed id and its cause.
/// </para>
/// </remarks>
public abstract class MigrationBatchException : LazyMigrationException
{
    // Private protected: the typed subclass is the only one; users catch either, never derive.
    private protected MigrationBatchException(
        string migrationName,
        IReadOnlyDictionary<string, LazyMigrationException> failures,
        int foundCount
    )
        : base(First(failures).Key, Describe(migrationName, failures, foundCount), First(failures).Value)
    {
        MigrationName = migrationName;
        Failures = failures;
    }

    /// <summary>Gets the migration name.</summary>
    public string MigrationName { get; }

    /// <summary>
    /// Gets the failure of each failed id: a mapping, lock or store error naming that id (or its batch).
    /// </summary>
    public IReadOnlyDictionary<string, LazyMigrationException> Failures { get; }

    private static KeyValuePair<string, LazyMigrationException> First(
        IReadOnlyDictionary<string, LazyMigrationException> failures
    )
    {
        ArgumentNullException.ThrowIfNull(failures);
        foreach (KeyValuePair<string, LazyMigrationException> failure in failures)
        {
            return failure;
        }

        throw new ArgumentException("A batch failure needs at least one failed id.", nameof(failures));
    }

    private static string Describe(
        string migrationName,
        IReadOnlyDictionary<string, LazyMigrationException> failures,
        int foundCount
    )
    {
        var (id, failure) = First(failures);
        string others = failures.Count == 1 ? "" : $" and {failures.Count - 1} more";
        return $"Migration '{migrationName}' could not read entity '{id}'{others} of a batch "
            + $"({foundCount} read): {failure.Message}";
    }
}
