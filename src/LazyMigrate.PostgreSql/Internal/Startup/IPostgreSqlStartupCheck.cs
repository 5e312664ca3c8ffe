namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The start-up check of one PostgreSQL store of one migration, run by <see cref="PostgreSqlStartupChecks"/> when the
/// host starts. One per migration and part: a later <c>Use...</c> call of the same part replaces it.
/// </summary>
internal interface IPostgreSqlStartupCheck
{
    /// <summary>Gets the migration name.</summary>
    string Migration { get; }

    /// <summary>
    /// Gets the part of the migration checked: a store's role (<see cref="MigrationRole"/>'s name), or <c>Outbox</c>.
    /// </summary>
    string Part { get; }

    /// <exception cref="InvalidOperationException">The check failed.</exception>
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}
