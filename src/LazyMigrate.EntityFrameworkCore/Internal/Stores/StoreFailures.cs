using System.Data.Common;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Tells the failures worth retrying from the others, wherever EF Core wrapped them: a <see cref="DbException"/>
/// whose <c>IsTransient</c> is true (a serialization failure, a deadlock, a dropped connection, SQLite's busy) or a
/// timeout. They surface as <see cref="TransientStoreException"/>, which the core's resilience pipeline retries.
/// </summary>
internal static class StoreFailures
{
    public static bool IsTransient(Exception exception)
    {
        if (exception is TransientStoreException or OperationCanceledException or InvalidEntityIdException)
        {
            return false;
        }

        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is DbException { IsTransient: true } or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    public static TransientStoreException Transient(string entityType, string operation, Exception exception) =>
        TransientOf($"Entity Framework Core store of {entityType}", operation, exception);

    public static TransientStoreException OutboxTransient(string operation, Exception exception) =>
        TransientOf("Entity Framework Core outbox", operation, exception);

    public static TransientStoreException BackfillTransient(string operation, Exception exception) =>
        TransientOf("Entity Framework Core backfill checkpoint store", operation, exception);

    private static TransientStoreException TransientOf(string subject, string operation, Exception exception) =>
        new(
            $"{subject}: {operation} failed transiently and may succeed when tried again: {exception.Message}",
            exception
        );
}
