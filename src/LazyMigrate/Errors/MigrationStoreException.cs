namespace LazyMigrate;

/// <summary>A store or lock call failed after its resilience pipeline gave up.</summary>
public sealed class MigrationStoreException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="MigrationStoreException"/> class.</summary>
    /// <param name="migrationName">The migration name.</param>
    /// <param name="entityId">The entity id, or the first of the ids of a batched call.</param>
    /// <param name="role">Which collaborator failed.</param>
    /// <param name="operation">The operation, for example <c>find</c> or <c>insert</c>.</param>
    /// <param name="innerException">The failure.</param>
    /// <param name="entityCount">How many entities the failed call concerned (a batched call), <paramref
    /// name="entityId"/> first.</param>
    public MigrationStoreException(
        string migrationName,
        string entityId,
        MigrationRole role,
        string operation,
        Exception innerException,
        int entityCount = 1
    )
        : base(
            entityId,
            $"Migration '{migrationName}': {role} {operation} failed for {Describe(entityId, entityCount)}: "
                + $"{innerException?.Message}",
            innerException
        )
    {
        MigrationName = migrationName;
        Role = role;
        Operation = operation;
        EntityCount = entityCount;
    }

    /// <summary>Gets the migration name.</summary>
    public string MigrationName { get; }

    /// <summary>Gets which collaborator failed.</summary>
    public MigrationRole Role { get; }

    /// <summary>Gets the operation that failed.</summary>
    public string Operation { get; }

    /// <summary>
    /// Gets how many entities the failed call concerned: more than one for a batched call, whose first id is <see
    /// cref="LazyMigrationException.EntityId"/>.
    /// </summary>
    public int EntityCount { get; }

    private static string Describe(string entityId, int entityCount) =>
        entityCount > 1 ? $"a batch of {entityCount} entities starting with '{entityId}'" : $"entity '{entityId}'";
}
