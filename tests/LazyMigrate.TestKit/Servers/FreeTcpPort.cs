using System.Net;
using System.Net.Sockets;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// Finds a TCP port on 127.0.0.1 that nothing listens on right now. Another process may take it before the server
/// binds it: the servers retry on another port when theirs is taken.
/// </summary>
public static class FreeTcpPort
{
    /// <summary>
    /// Asks the operating system for a free port by binding port 0, then lets it go for the server to take.
    /// </summary>
    public static int Find()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
