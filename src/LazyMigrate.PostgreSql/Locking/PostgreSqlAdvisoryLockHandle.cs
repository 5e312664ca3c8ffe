using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// A held advisory lock and the connection whose session holds it. While held, the connection waits for a message from
/// the server (<see cref="NpgsqlConnection.WaitAsync(TimeSpan, CancellationToken)"/>): a server that closes the session
/// ends that wait at once, and a keep-alive query runs whenever the connection was silent for the keep-alive interval.
/// Either failing cancels <see cref="HandleLostToken"/>.
/// </summary>
internal sealed class PostgreSqlAdvisoryLockHandle : IMigrationLockHandle
{
    private readonly NpgsqlConnection _connection;
    private readonly string _key;
    private readonly TimeSpan _keepAliveInterval;
    private readonly ILogger _logger;

    // Neither source is disposed: they own no timer, and a holder may still read or register on the token after release.
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly Task _watching;
    private int _released;

    public PostgreSqlAdvisoryLockHandle(NpgsqlConnection connection, string key, TimeSpan keepAliveInterval, ILogger logger)
    {
        _connection = connection;
        _key = key;
        _keepAliveInterval = keepAliveInterval;
        _logger = logger;
        _watching = WatchAsync();
    }

    public CancellationToken HandleLostToken => _lost.Token;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        // The connection runs one thing at a time: stop the watch before the unlock.
        await _stopWatching.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        try
        {
            if (!_lost.IsCancellationRequested && !await UnlockAsync().ConfigureAwait(false))
            {
                PostgreSqlLog.AdvisoryLockNotHeld(_logger, _key);
            }
        }
        catch (Exception exception)
        {
            // The session may still hold the lock: make sure this connection is closed rather than pooled with it.
            PostgreSqlLog.AdvisoryLockReleaseFailed(_logger, _key, exception);
            NpgsqlConnection.ClearPool(_connection);
            throw;
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task WatchAsync()
    {
        // Yield first so that the acquisition returns its handle without waiting for the watch to start.
        await Task.Yield();
        try
        {
            TimeSpan wait = _keepAliveInterval > TimeSpan.Zero ? _keepAliveInterval : Timeout.InfiniteTimeSpan;
            while (!_stopWatching.IsCancellationRequested)
            {
                // True on a notice or notification: nothing to do but wait again.
                if (!await _connection.WaitAsync(wait, _stopWatching.Token).ConfigureAwait(false))
                {
                    await KeepAliveAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stopWatching.IsCancellationRequested)
        {
            // Released.
        }
        catch (Exception exception)
        {
            PostgreSqlLog.AdvisoryLockLost(_logger, _key, exception);
            await _lost.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task KeepAliveAsync()
    {
        NpgsqlCommand keepAlive = new(AdvisoryLockSql.KeepAlive, _connection);
        await using (keepAlive.ConfigureAwait(false))
        {
            // Bounded by the command timeout, not by a release: cancelling would send a cancel request to the server.
            await keepAlive.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> UnlockAsync()
    {
        NpgsqlCommand unlock = new(AdvisoryLockSql.Unlock, _connection);
        await using (unlock.ConfigureAwait(false))
        {
            unlock.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _key });
            return (bool)(await unlock.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
        }
    }
}
