namespace LazyMigrate;

/// <summary>The mapper (or reverse mapper) threw or returned nothing for an entity; nothing was written.</summary>
public sealed class MigrationMappingException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="MigrationMappingException"/> class.</summary>
    /// <param name="migrationName">The migration name.</param>
    /// <param name="entityId">The entity id.</param>
    /// <param name="cause">What went wrong, in a few words.</param>
    /// <param name="innerException">The exception the mapper threw, if any.</param>
    public MigrationMappingException(
        string migrationName,
        string entityId,
        string cause,
        Exception? innerException = null
    )
        : base(entityId, $"Migration '{migrationName}' could not map entity '{entityId}': {cause}", innerException)
    {
        MigrationName = migrationName;
    }

    /// <summary>Gets the migration name.</summary>
    public string MigrationName { get; }
}
