namespace LazyMigrate;

/// <summary>The migration lock for an entity could not be acquired in time; nothing was written.</summary>
public sealed class MigrationLockTimeoutException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="MigrationLockTimeoutException"/> class.</summary>
    /// <param name="migrationName">The migration name.</param>
    /// <param name="entityId">The entity id.</param>
    /// <param name="timeout">How long the caller waited.</param>
    public MigrationLockTimeoutException(string migrationName, string entityId, TimeSpan timeout)
        : base(
            entityId,
            $"Migration '{migrationName}' could not lock entity '{entityId}' within {timeout}.",
            innerException: null
        )
    {
        MigrationName = migrationName;
        Timeout = timeout;
    }

    /// <summary>Gets the migration name.</summary>
    public string MigrationName { get; }

    /// <summary>Gets how long the caller waited.</summary>
    public TimeSpan Timeout { get; }
}
