using System.Data.Common;
using System.Net.Sockets;
using Polly.Timeout;

namespace LazyMigrate.Internal;

/// <summary>
/// Decides which failures the default pipelines retry: ones a second attempt can fix, never bad input.
/// </summary>
internal static class TransientFailure
{
    /// <summary>
    /// Tells whether the failure, or any failure it wraps (EF Core wraps a transient DbException), may pass on a retry.
    /// A <see cref="LazyMigrationException"/> never does, whatever it wraps: it is a verdict on the entity (a store
    /// that cannot hold it, an id it cannot key on), which LazyMigrate passes on unchanged.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is LazyMigrationException)
            {
                return false;
            }

            if (IsTransientItself(current))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTransientItself(Exception exception) =>
        exception switch
        {
            TransientStoreException => true,
            TimeoutRejectedException => true,
            DbException db => db.IsTransient,
            TimeoutException => true,
            SocketException => true,
            IOException => true,
            _ => false,
        };
}
