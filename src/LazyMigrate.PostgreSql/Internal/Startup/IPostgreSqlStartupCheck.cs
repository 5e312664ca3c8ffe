namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of one PostgreSQL store of one migration, run by <see cref="PostgreSqlStartupChecks"/> when the
/// host starts. One per migration and role: a later <c>Use...</c> call of the same role replaces it.
/// </summary>
internal interface IPostgreSqlStartupCheck
{
    /// <summary>Gets the migration name.</summary>
    string Migration { get; }

    /// <summary>Gets the store's role.</summary>
    MigrationRole Role { get; }

    /// <exception cref="InvalidOperationException">The check failed.</exception>
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}
