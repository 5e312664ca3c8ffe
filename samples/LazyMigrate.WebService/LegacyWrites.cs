using System.Globalization;
using LazyMigrate.Outbox;
using LazyMigrate.QuickStart;

namespace LazyMigrate.WebService;

/// <summary>
/// How an old-API write becomes known to the migration: the one thing the legacy code may have to do for LazyMigrate.
/// </summary>
public interface ILegacyWrites
{
    /// <summary>
    /// Runs the legacy write of customer <paramref name="id"/>, and whatever records it; the write returns whether it
    /// changed the row (a delete of an absent row did not), and so does this.
    /// </summary>
    Task<bool> WriteAsync(int id, Func<CancellationToken, Task<bool>> write, CancellationToken cancellationToken);
}

/// <summary>
/// On PostgreSQL a trigger on the legacy table records every write in the write's own transaction: the legacy code
/// does nothing more.
/// </summary>
public sealed class CapturedByTrigger : ILegacyWrites
{
    public Task<bool> WriteAsync(
        int id,
        Func<CancellationToken, Task<bool>> write,
        CancellationToken cancellationToken
    ) => write(cancellationToken);
}

/// <summary>
/// Elsewhere the legacy code wraps its write in the one call that records it, under the entity's lock, so that no
/// write-back lands between the write and its record.
/// </summary>
public sealed class RecordedByTheLegacyCode(IOldStoreChangeRecorder<LegacyCustomer, Customer> recorder) : ILegacyWrites
{
    public Task<bool> WriteAsync(
        int id,
        Func<CancellationToken, Task<bool>> write,
        CancellationToken cancellationToken
    ) =>
        recorder
            .RecordWriteAsync(id.ToString(CultureInfo.InvariantCulture), async ct => await write(ct), cancellationToken)
            .AsTask();
}
