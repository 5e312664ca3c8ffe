namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// A row of the old store's table that Entity Framework Core cannot read as the entity type (a value its property's
/// type cannot hold, a <c>NULL</c> in a required column); nothing was written. Names the entity and its type.
/// </summary>
/// <remarks>
/// The message names the failure's type only, never the row's values; the failure itself is the inner exception. A
/// scan that meets such a row yields every row before it, then throws this exception, so a backfill quarantines the
/// entity and goes on after it.
/// </remarks>
public sealed class CorruptRowException : CorruptEntityException
{
    /// <summary>Initializes a new instance of the <see cref="CorruptRowException"/> class.</summary>
    /// <param name="entityId">The id of the entity whose row does not read.</param>
    /// <param name="entityTypeName">The entity type, as the store names it.</param>
    /// <param name="innerException">Entity Framework Core's failure to read the row.</param>
    public CorruptRowException(string entityId, string entityTypeName, Exception innerException)
        : base(
            entityId,
            $"The row of entity '{entityId}' ({entityTypeName}) does not read as its type: "
                + $"{innerException?.GetType().Name}",
            innerException
        )
    {
        EntityTypeName = entityTypeName;
    }

    /// <summary>Gets the entity type whose row does not read.</summary>
    public string EntityTypeName { get; }
}
