namespace LazyMigrate;

/// <summary>
/// Some ids of a <see cref="IMigratingRepository{TOld, TNew}.GetManyAsync"/> failed; <see cref="Found"/> holds what was
/// read for the others, as the call would have returned it.
/// </summary>
/// <typeparam name="TNew">The new entity type.</typeparam>
public sealed class MigrationBatchException<TNew> : MigrationBatchException
    where TNew : class
{
    /// <summary>Initializes a new instance of the <see cref="MigrationBatchException{TNew}"/> class.</summary>
    /// <param name="migrationName">The migration name.</param>
    /// <param name="found">The entities read for the ids that did not fail, by id.</param>
    /// <param name="failures">
    /// The failure of each failed id, at least one; the first it enumerates becomes <see
    /// cref="LazyMigrationException.EntityId"/>
    /// and <see cref="Exception.InnerException"/>.
    /// </param>
    public MigrationBatchException(
        string migrationName,
        IReadOnlyDictionary<string, TNew> found,
        IReadOnlyDictionary<string, LazyMigrationException> failures
    )
        : base(migrationName, failures, found?.Count ?? 0)
    {
        ArgumentNullException.ThrowIfNull(found);
        Found = found;
    }

    /// <summary>
    /// Gets the entities read for the ids that did not fail, by id; ids that neither store holds are absent.
    /// </summary>
    public IReadOnlyDictionary<string, TNew> Found { get; }
}
