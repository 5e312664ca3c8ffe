using System.Net;
using System.Net.Sockets;
using LazyMigrate.TestKit.Servers;
using Npgsql;
using StackExchange.Redis;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// A free port is chosen, let go, and bound later by the server: when another process took it in between, the
/// server starts on another port instead of failing the run. Each test starts a server of its own.
/// </summary>
public sealed class ServerPortTests
{
    [Fact]
    public async Task PostgresServer_WhoseChosenPortIsTaken_StartsOnAnother()
    {
        using var taken = Listen(out int takenPort);
        var server = new PostgresServer { ChoosePort = FirstThen(takenPort) };
        try
        {
            await server.InitializeAsync();
            await using NpgsqlCommand query = server.DataSource.CreateCommand("SELECT 41 + 1");

            Assert.Equal(42, await query.ExecuteScalarAsync());
            Assert.NotEqual(takenPort, server.Port);
            Assert.Equal(2, server.StartAttempts);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task RedisServer_WhoseChosenPortIsTaken_StartsOnAnother()
    {
        using var taken = Listen(out int takenPort);
        var server = new RedisServer { ChoosePort = FirstThen(takenPort) };
        try
        {
            await server.InitializeAsync();
            await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(
                server.ConnectionString
            );

            Assert.Equal(
                "pong",
                (string?)await connection.GetDatabase().ExecuteAsync("ECHO", "pong"),
                StringComparer.Ordinal
            );
            Assert.NotEqual(takenPort, server.Port);
            Assert.Equal(2, server.StartAttempts);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>A socket listening on 127.0.0.1, as another process that took the chosen port would hold it.</summary>
    private static TcpListener Listen(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    private static Func<int> FirstThen(int first)
    {
        int calls = 0;
        return () => Interlocked.Increment(ref calls) == 1 ? first : FreeTcpPort.Find();
    }
}
