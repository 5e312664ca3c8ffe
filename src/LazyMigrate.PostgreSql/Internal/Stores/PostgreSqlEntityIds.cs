namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks that an entity id can be stored in a PostgreSQL <c>text</c> column: no NUL character (PostgreSQL text
/// cannot hold one) and well-formed UTF-16 (a lone surrogate has no UTF-8 encoding). These are the core's rules for
/// every store (<see cref="InvalidEntityIdException.ThrowIfInvalid"/>), checked again here for callers of the store
/// that do not go through a repository.
/// </summary>
internal static class PostgreSqlEntityIds
{
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    /// <exception cref="InvalidEntityIdException">PostgreSQL cannot store the id.</exception>
    public static void Validate(string id) => InvalidEntityIdException.ThrowIfInvalid(id);

    public static void ValidateAll(IEnumerable<string> ids)
    {
        foreach (string id in ids)
        {
            Validate(id);
        }
    }
}
