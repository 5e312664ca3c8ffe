using System.Data.Common;
using System.Net.Sockets;
using Polly.Timeout;

namespace LazyMigrate;

/// <summary>Decides which failures the default pipelines retry: ones a second attempt can fix, never bad input.</summary>
internal static class TransientFailure
{
    public static bool IsTransient(Exception exception) => exception switch
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
