using System.Globalization;
using LazyMigrate.TestKit.Servers;
using Medallion.Threading;
using Medallion.Threading.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// DistributedLock.Postgres on the real server. Each instance connects under its own application name, so it has its
/// own connection pool and multiplexed lock connections, as a separate service would.
/// </summary>
public sealed class PostgresLockBackend(PostgresServer server) : ILockBackend
{
    private static int s_instances;
    private readonly List<string> _connectionStrings = [];

    public Task<IDistributedLockProvider> CreateInstanceAsync()
    {
        string connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString)
        {
            ApplicationName = $"lazymigrate-instance-{Interlocked.Increment(ref s_instances)}",
            // Waits for a pooled connection with margin: readers and waiting locks of an instance share its pool.
            Timeout = (int)PostgresServer.PoolWait.TotalSeconds,
        }.ConnectionString;
        lock (_connectionStrings)
        {
            _connectionStrings.Add(connectionString);
        }

        return Task.FromResult<IDistributedLockProvider>(
            new PostgresDistributedSynchronizationProvider(connectionString)
        );
    }

    /// <summary>
    /// Terminates the backend that holds the advisory lock of <paramref name="key"/>: its session and every lock in it
    /// die.
    /// </summary>
    public async Task LoseAsync(string key)
    {
        var (high, low) = AdvisoryKeyOf(key);
        await using var terminate = server.DataSource.CreateCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
                + "WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = $1 AND objid = $2"
        );
        terminate.Parameters.Add(new NpgsqlParameter { Value = high, NpgsqlDbType = NpgsqlDbType.Oid });
        terminate.Parameters.Add(new NpgsqlParameter { Value = low, NpgsqlDbType = NpgsqlDbType.Oid });
        int terminated = 0;
        await using (var reader = await terminate.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                terminated += reader.GetBoolean(0) ? 1 : 0;
            }
        }

        if (terminated != 1)
        {
            throw new InvalidOperationException(
                $"Expected one backend to hold the advisory lock of '{key}', terminated {terminated}."
            );
        }
    }

    /// <summary>
    /// DistributedLock.Postgres waits on the server (<c>pg_advisory_lock</c> under a <c>lock_timeout</c>): the waiter
    /// shows in <c>pg_locks</c> as the key's advisory lock not granted.
    /// </summary>
    public Task WaitUntilWaitingAsync(string key)
    {
        var (high, low) = AdvisoryKeyOf(key);
        return AdvisoryLockWaiters.UntilWaitedForAsync(server.DataSource, ((long)high << 32) | low);
    }

    public ValueTask DisposeAsync()
    {
        lock (_connectionStrings)
        {
            foreach (string connectionString in _connectionStrings)
            {
                using var connection = new NpgsqlConnection(connectionString);
                NpgsqlConnection.ClearPool(connection);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Finds the 64-bit advisory key DistributedLock derives from a name (long names are hashed), through its public,
    /// round-trippable text form; pg_locks shows a 64-bit key as its high half in classid and low half in objid.
    /// </summary>
    private static (uint High, uint Low) AdvisoryKeyOf(string name)
    {
        string text = new PostgresAdvisoryLockKey(name, allowHashing: true).ToString();
        if (
            text.Length != 16
            || !long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long key)
        )
        {
            throw new InvalidOperationException(
                $"'{name}' does not map to a hashed 64-bit advisory key (it maps to '{text}')."
            );
        }

        return ((uint)(key >>> 32), unchecked((uint)key));
    }
}
