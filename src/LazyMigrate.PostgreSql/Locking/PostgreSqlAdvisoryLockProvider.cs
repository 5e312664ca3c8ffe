using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// Migration locks as PostgreSQL session-level advisory locks: <c>pg_try_advisory_lock(hashtextextended(key, 0))</c>
/// on a connection of the data source that the handle keeps for the lock's lifetime, <c>pg_advisory_unlock</c> on
/// dispose. A batch of keys (<see cref="TryAcquireManyAsync"/>) is held on one connection too.
/// </summary>
/// <remarks>
/// <para>A waiting acquisition tries again after a sleep that doubles from <see
/// cref="PostgreSqlAdvisoryLockOptions.PollInterval"/>
/// to <see cref="PostgreSqlAdvisoryLockOptions.MaxPollInterval"/>, until the timeout. It holds its connection while it
/// waits: size the pool for the migrations locking at once (one connection each, whatever the batch size) plus the
/// store calls, or give the lock a data source of its own.</para>
/// <para><see cref="IMigrationLockHandle.HandleLostToken"/> is cancelled when the lock's connection fails: at once when
/// the server closes it (<c>pg_terminate_backend</c>, a restart, a crash that resets the socket), and within <see
/// cref="PostgreSqlAdvisoryLockOptions.KeepAliveInterval"/> plus the command timeout when it dies silently. The lock is
/// gone from the server by then, and another instance may hold it already: insert-if-absent still fences the
/// migration.</para>
/// <para>Needs session state: it does not work through a pooler in transaction mode (PgBouncer), nor with Npgsql
/// multiplexing.</para>
/// </remarks>
public sealed class PostgreSqlAdvisoryLockProvider : IMigrationBatchLockProvider
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgreSqlAdvisoryLockOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlAdvisoryLockProvider"/> class.</summary>
    /// <param name="dataSource">The data source; the provider does not dispose it. Multiplexing must be off.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock of the waits, or <see langword="null"/> for the system clock.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid, or the data source multiplexes.</exception>
    public PostgreSqlAdvisoryLockProvider(
        NpgsqlDataSource dataSource,
        PostgreSqlAdvisoryLockOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlAdvisoryLockOptions();
        PostgreSqlAdvisoryLockOptionsValidator.ThrowIfInvalid(options);
        if (new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing)
        {
            throw new ArgumentException(
                "Advisory locks need a connection of their own: use a data source without Multiplexing.",
                nameof(dataSource)
            );
        }

        _dataSource = dataSource;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger(PostgreSqlLog.Category) ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The try itself is never cancelled half-way, so a lock the server grants is never lost track of;
    /// <paramref name="cancellationToken"/> cancels the connection opening and the sleeps between tries.
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until the lock is free or the token is cancelled.
    /// </remarks>
    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return AcquireAsync([key], timeout, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Every key on one session, so a batch holds one connection however many ids it has: each try runs
    /// <c>pg_try_advisory_lock</c> for all the keys in one statement and, when some were not granted, releases the
    /// others in a second, then sleeps as <see cref="TryAcquireAsync"/> does, until the timeout. A try never waits on
    /// the server, so two sessions with overlapping keys cannot deadlock; the sleeps' jitter keeps them from taking
    /// turns at failing. The handle releases every key on dispose, and its lost token covers them all.
    /// </remarks>
    public ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("At least one key is needed.", nameof(keys));
        }

        string[] sorted = new string[keys.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(keys[i], nameof(keys));
            sorted[i] = keys[i];
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        return AcquireAsync(sorted, timeout, cancellationToken);
    }

    private static async ValueTask<bool> TryOnceAsync(NpgsqlCommand tryLock, string[] keys)
    {
        if (keys.Length == 1)
        {
            return (bool)(await tryLock.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
        }

        var granted = new List<string>(keys.Length);
        NpgsqlDataReader reader = await tryLock.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                granted.Add(reader.GetString(0));
            }
        }

        if (granted.Count == keys.Length)
        {
            return true;
        }

        if (granted.Count > 0)
        {
            await ReleasePartialGrantAsync(tryLock.Connection!, [.. granted]).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// Releases the keys of a try that did not get them all; a session that fails to is not pooled with them.
    /// </summary>
    private static async ValueTask ReleasePartialGrantAsync(NpgsqlConnection connection, string[] granted)
    {
        try
        {
            await PostgreSqlAdvisoryLockHandle.UnlockAsync(connection, granted).ConfigureAwait(false);
        }
        catch
        {
            NpgsqlConnection.ClearPool(connection);
            throw;
        }
    }

    private static NpgsqlCommand TryLockCommand(NpgsqlConnection connection, string[] keys) =>
        keys.Length == 1
            ? new(AdvisoryLockSql.TryLock, connection)
            {
                Parameters = { new NpgsqlParameter<string> { TypedValue = keys[0] } },
            }
            : new(AdvisoryLockSql.TryLockMany, connection)
            {
                Parameters = { new NpgsqlParameter<string[]> { TypedValue = keys } },
            };

    /// <summary>
    /// Takes the locks of <paramref name="keys"/> (one, or a batch in ordinal order) on one connection.
    /// </summary>
    private async ValueTask<IMigrationLockHandle?> AcquireAsync(
        string[] keys,
        TimeSpan timeout,
        CancellationToken cancellationToken
    )
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "The timeout must not be negative (Timeout.InfiniteTimeSpan waits without limit)."
            );
        }

        cancellationToken.ThrowIfCancellationRequested();
        long started = _timeProvider.GetTimestamp();
        NpgsqlConnection? connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NpgsqlCommand tryLock = TryLockCommand(connection, keys);
            await using (tryLock.ConfigureAwait(false))
            {
                TimeSpan sleep = _options.PollInterval;
                while (!await TryOnceAsync(tryLock, keys).ConfigureAwait(false))
                {
                    TimeSpan remaining =
                        timeout == Timeout.InfiniteTimeSpan ? sleep : timeout - _timeProvider.GetElapsedTime(started);
                    if (remaining <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    await Task.Delay(Jittered(sleep < remaining ? sleep : remaining), _timeProvider, cancellationToken)
                        .ConfigureAwait(false);
                    sleep = TimeSpan.FromTicks(Math.Min(sleep.Ticks * 2, _options.MaxPollInterval.Ticks));
                }
            }

            var handle = new PostgreSqlAdvisoryLockHandle(
                connection,
                keys,
                _options.KeepAliveInterval,
                _timeProvider,
                _logger
            );
            connection = null;
            return handle;
        }
        finally
        {
            if (connection is not null)
            {
                // Not granted, or the connection broke (and the locks with it): back to the pool.
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Spreads the tries of instances that started waiting together over 75% to 100% of the sleep.</summary>
    private static TimeSpan Jittered(TimeSpan sleep) =>
        TimeSpan.FromTicks(sleep.Ticks - (long)(sleep.Ticks * 0.25 * Random.Shared.NextDouble()));
}
