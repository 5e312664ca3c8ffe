using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The insert of an entry row failed: most likely a concurrent write of the same id inserted it first (a primary-key
/// conflict, which EF Core reports as a <see cref="DbUpdateException"/> whatever the provider). Never leaves a store.
/// </summary>
internal sealed class EntryRaceException(DbUpdateException failure)
    : Exception("The entry row of the id could not be inserted.", failure)
{
    public DbUpdateException Failure => failure;
}
