namespace LazyMigrate;

/// <summary>The lock keys LazyMigrate takes, for tests and tools that need to hold or expire one.</summary>
public static class MigrationLockKeys
{
    /// <summary>Gets the key of the lock that guards one entity of one migration: the same on every instance.</summary>
    /// <param name="migrationName">The migration name (<see cref="ILazyMigrationBuilder{TOld, TNew}.Name"/>).</param>
    /// <param name="entityId">The entity id.</param>
    /// <returns>The lock key, <c>lazymigrate:{migrationName}:{entityId}</c>.</returns>
    public static string For(string migrationName, string entityId)
    {
        ArgumentException.ThrowIfNullOrEmpty(migrationName);
        ArgumentException.ThrowIfNullOrEmpty(entityId);
        return $"lazymigrate:{migrationName}:{entityId}";
    }
}
