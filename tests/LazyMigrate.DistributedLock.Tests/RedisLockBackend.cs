using System.Collections.Concurrent;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Medallion.Threading;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// DistributedLock.Redis on the real server, each instance with its own multiplexer (its own connection). Redis cannot
/// show who waits for a lock (DistributedLock.Redis retries from the client), so each instance's provider counts its
/// waiters (<see cref="WaitingLockProvider"/>).
/// </summary>
public sealed class RedisLockBackend(RedisServer server) : ILockBackend
{
    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly ConcurrentDictionary<string, int> _waiting = new(StringComparer.Ordinal);
    private ConnectionMultiplexer? _admin;

    public async Task<IDistributedLockProvider> CreateInstanceAsync()
    {
        ConnectionMultiplexer connection = await ConnectAsync();
        return new WaitingLockProvider(
            new RedisDistributedSynchronizationProvider(connection.GetDatabase(), Options),
            _waiting
        );
    }

    public Task WaitUntilWaitingAsync(string key) =>
        Eventually.TrueAsync(
            () => _waiting.TryGetValue(key, out int count) && count > 0,
            what: $"A caller waiting for the Redis lock '{key}'"
        );

    /// <summary>Deletes the lock's Redis key: DistributedLock.Redis stores a lock under its name, unchanged.</summary>
    public async Task LoseAsync(string key)
    {
        _admin ??= await ConnectAsync();
        if (!await _admin.GetDatabase().KeyDeleteAsync(key))
        {
            throw new InvalidOperationException($"Expected the Redis key '{key}' of a held lock, found none.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ConnectionMultiplexer connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// The lease is renewed (and so checked) every 100 ms, so a deleted key is noticed at once; waiters retry every
    /// 5 to 50 ms. The defaults (30 s lease, renewed every 9 s) would only make the tests slow.
    /// </summary>
    private static void Options(RedisDistributedSynchronizationOptionsBuilder options) =>
        options
            .Expiry(TimeSpan.FromSeconds(5))
            .ExtensionCadence(TimeSpan.FromMilliseconds(100))
            .BusyWaitSleepTime(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(50));

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return connection;
    }
}
