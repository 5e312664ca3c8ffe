using System.Data;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// A held advisory lock, or the locks of a batch of keys, and the connection whose session holds them. A lock held
/// longer than <see cref="Slice"/> is watched: its connection waits for a message from the server
/// (<see cref="NpgsqlConnection.WaitAsync(TimeSpan, CancellationToken)"/>), so a server that closes the session ends
/// that wait at once, and a keep-alive query runs whenever the connection was silent for the keep-alive interval.
/// Either failing cancels <see cref="HandleLostToken"/>.
/// </summary>
/// <remarks>
/// <para>A release must first stop the watch, since the connection runs one thing at a time, and Npgsql can miss a
/// cancellation that lands just as a wait starts: the wait then runs to its own timeout. So the watch waits in slices
/// of at most a second (a missed cancellation delays a release by that much at most, where a whole keep-alive interval
/// of 15 seconds used to stall it), and starts only once the lock has been held for a slice: most migration locks are
/// released within milliseconds, and never start a wait at all.</para>
/// </remarks>
internal sealed class PostgreSqlAdvisoryLockHandle : IMigrationLockHandle
{
    /// <summary>The longest single wait of the watch, and how long a lock is held before the watch starts.</summary>
    internal static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);

    private readonly NpgsqlConnection _connection;
    private readonly string[] _keys;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // Neither source is disposed: they own no timer, and a holder may still read or register on the token after
    // release.
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly Task _watching;
    private int _released;

    public PostgreSqlAdvisoryLockHandle(
        NpgsqlConnection connection,
        string[] keys,
        TimeSpan keepAliveInterval,
        TimeProvider timeProvider,
        ILogger logger
    )
    {
        _connection = connection;
        _keys = keys;
        _keepAliveInterval = keepAliveInterval;
        _timeProvider = timeProvider;
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
                PostgreSqlLog.AdvisoryLockNotHeld(_logger, _keys[0]);
                TellLost();
            }
        }
        catch (Exception exception) when (_connection.State != ConnectionState.Open)
        {
            // The connection broke (a session killed before the watch noticed): the lock ended with the session.
            PostgreSqlLog.AdvisoryLockLost(_logger, _keys[0], exception);
            TellLost();
        }
        catch (Exception exception)
        {
            // The session may still hold the lock: make sure this connection is closed rather than pooled with it.
            PostgreSqlLog.AdvisoryLockReleaseFailed(_logger, _keys[0], exception);
            NpgsqlConnection.ClearPool(_connection);
            throw;
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cancels <see cref="HandleLostToken"/> for a loss the release found (a lock held for less than a slice is not
    /// watched), so that a holder who checks after releasing, as a write-back does, learns of it. A holder's callback
    /// that throws does not fail the release.
    /// </summary>
    private void TellLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException exception)
        {
            PostgreSqlLog.AdvisoryLockLost(_logger, _keys[0], exception);
        }
    }

    private async Task WatchAsync()
    {
        TimeSpan slice = _keepAliveInterval > TimeSpan.Zero && _keepAliveInterval < Slice ? _keepAliveInterval : Slice;
        try
        {
            // A delay, unlike a pending read, is cancelled without a race; it also returns the handle to the acquirer
            // first.
            await Task.Delay(Slice, _timeProvider, _stopWatching.Token).ConfigureAwait(false);
            long silentSince = _timeProvider.GetTimestamp();
            while (!_stopWatching.IsCancellationRequested)
            {
                // True on a notice or notification: the connection is alive.
                if (await _connection.WaitAsync(slice, _stopWatching.Token).ConfigureAwait(false))
                {
                    silentSince = _timeProvider.GetTimestamp();
                }
                else if (
                    _keepAliveInterval > TimeSpan.Zero
                    && _timeProvider.GetElapsedTime(silentSince) >= _keepAliveInterval
                )
                {
                    await KeepAliveAsync().ConfigureAwait(false);
                    silentSince = _timeProvider.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (_stopWatching.IsCancellationRequested)
        {
            // Released.
        }
        catch (Exception exception)
        {
            PostgreSqlLog.AdvisoryLockLost(_logger, _keys[0], exception);
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

    private ValueTask<bool> UnlockAsync() => UnlockAsync(_connection, _keys);

    /// <summary>
    /// Releases <paramref name="keys"/> in the session of <paramref name="connection"/>; true when it held them all.
    /// </summary>
    internal static async ValueTask<bool> UnlockAsync(NpgsqlConnection connection, string[] keys)
    {
        NpgsqlCommand unlock =
            keys.Length == 1 ? new(AdvisoryLockSql.Unlock, connection) : new(AdvisoryLockSql.UnlockMany, connection);
        await using (unlock.ConfigureAwait(false))
        {
            unlock.Parameters.Add(
                keys.Length == 1
                    ? new NpgsqlParameter<string> { TypedValue = keys[0] }
                    : new NpgsqlParameter<string[]> { TypedValue = keys }
            );
            return (bool)(await unlock.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
        }
    }
}
