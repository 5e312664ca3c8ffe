using System.Diagnostics;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// How long the new store's lock waits for a batch whose ids other transactions hold: the timeout bounds the whole
/// wait, not the wait for each id.
/// </summary>
[Collection("postgres")]
public sealed class NewStoreLockWaitBoundTests(PostgresServer server)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TryLock_OnIdsHeldByThreeTransactions_ThatEachLetGoJustInTime_GivesUpWithinTheTimeoutInAll()
    {
        // Wall time is the thing under test: PostgreSQL's lock_timeout and statement_timeout run on the server's clock,
        // which no fake clock drives. The margin is wide: bounded per id, the wait lasts about 2.6 s (0.8 s on each of
        // the first two ids, then 1 s on the last); bounded in all, about 1 s; the test asserts under 2 s.
        TimeSpan timeout = TimeSpan.FromSeconds(1);
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(table));
        var waiter = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(table));
        await waiter.FindAsync("warm-up"); // the schema check is not part of the wait
        string[] ids = ["a", "b", "c"];
        await using var blockers = await Blockers.HoldAsync(server.DataSource, ids.Select(store.LockKey));

        Task<(INewStoreLock<Customer>? Lock, TimeSpan Elapsed)> waiting = TimedAsync(() =>
            waiter.TryLockAsync(ids, timeout)
        );

        // The first two holders each let go once the waiter has waited 0.8 x timeout for them (the server's own
        // record of when that wait began); the last one never does.
        for (int released = 0; released < 2; released++)
        {
            if (await blockers.WaitedForAsync(waiting) is not { } blocker)
            {
                break;
            }

            await blocker.HoldUntilWaitedForAsync(timeout * 0.8);
            await blocker.ReleaseAsync();
        }

        var (granted, elapsed) = await waiting.WaitAsync(Patience);
        Assert.Null(granted);
        Assert.True(
            elapsed < timeout * 2,
            $"gave up after {elapsed.TotalMilliseconds:F0} ms, more than twice the timeout of {timeout}"
        );
        Assert.True(
            elapsed >= timeout * 0.9,
            $"gave up after {elapsed.TotalMilliseconds:F0} ms, before the timeout of {timeout}"
        );
        await blockers.ReleaseAllAsync();
        await using INewStoreLock<Customer>? after = await store.TryLockAsync(ids, TimeSpan.Zero);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task TryLock_OnIdsHeldByThreeTransactions_GrantedWhenTheyLetGoInTime_LeavesNoTimeoutOnItsConnection()
    {
        // One pooled connection, never reset by Npgsql: a timeout left on the session would show in the SHOWs below.
        var pooled = new NpgsqlConnectionStringBuilder(server.ConnectionString)
        {
            MaxPoolSize = 1,
            NoResetOnClose = true,
        };
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(pooled.ConnectionString);
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(table));
        var waiter = new PostgreSqlNewStore<Customer>(dataSource, TestDatabase.Options(table));
        await waiter.FindAsync("warm-up");
        string[] ids = ["a", "b", "c"];
        await using var blockers = await Blockers.HoldAsync(server.DataSource, ids.Select(store.LockKey));

        Task<INewStoreLock<Customer>?> waiting = waiter.TryLockAsync(ids, TimeSpan.FromSeconds(10)).AsTask();
        for (int released = 0; released < ids.Length; released++)
        {
            // The gate: the waiter shows in pg_locks waiting for this holder's id.
            Blocker? blocker = await blockers.WaitedForAsync(waiting);
            Assert.NotNull(blocker);
            await blocker.ReleaseAsync();
        }

        INewStoreLock<Customer>? granted = await waiting.WaitAsync(Patience);
        Assert.NotNull(granted);
        IReadOnlyCollection<string> inserted = await granted.InsertManyIfAbsentAndReleaseAsync([
            new("a", Customer.Create("a", 1)),
            new("b", Customer.Create("b", 1)),
            new("c", Customer.Create("c", 1)),
        ]);
        await granted.DisposeAsync();

        Assert.Equal(ids, inserted.Order(StringComparer.Ordinal));
        Assert.Equal("0", await dataSource.ScalarAsync<string>("SHOW statement_timeout"));
        Assert.Equal("0", await dataSource.ScalarAsync<string>("SHOW lock_timeout"));
    }

    [Fact]
    public async Task TryLock_WhoseWaitAnotherSessionCancels_Throws_RatherThanReportingATimeout()
    {
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(table));
        var waiter = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(table));
        await waiter.FindAsync("warm-up");
        await using var blockers = await Blockers.HoldAsync(server.DataSource, [store.LockKey("a")]);

        Task<INewStoreLock<Customer>?> waiting = waiter.TryLockAsync(["a"], Patience).AsTask();
        Blocker? blocker = await blockers.WaitedForAsync(waiting);
        Assert.NotNull(blocker);
        Assert.True(await blocker.CancelWaiterAsync());

        // 57014 as statement_timeout raises it, but long before the timeout: an operator's pg_cancel_backend.
        PostgresException failure = await Assert.ThrowsAsync<PostgresException>(() => waiting.WaitAsync(Patience));
        Assert.Equal(PostgresErrorCodes.QueryCanceled, failure.SqlState);
        await blockers.ReleaseAllAsync();
        await using INewStoreLock<Customer>? after = await store.TryLockAsync(["a"], TimeSpan.Zero);
        Assert.NotNull(after);
    }

    private static async Task<(INewStoreLock<Customer>? Lock, TimeSpan Elapsed)> TimedAsync(
        Func<ValueTask<INewStoreLock<Customer>?>> call
    )
    {
        long started = Stopwatch.GetTimestamp();
        INewStoreLock<Customer>? result = await call();
        return (result, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Transactions that each hold one id's lock, as other migrations would.</summary>
    private sealed class Blockers : IAsyncDisposable
    {
        private readonly List<Blocker> _blockers;

        private Blockers(List<Blocker> blockers) => _blockers = blockers;

        public static async Task<Blockers> HoldAsync(NpgsqlDataSource dataSource, IEnumerable<string> keys)
        {
            var blockers = new List<Blocker>();
            foreach (string key in keys)
            {
                blockers.Add(await Blocker.HoldAsync(dataSource, key));
            }

            return new Blockers(blockers);
        }

        /// <summary>
        /// Queries the server until someone waits for the lock of a holder still holding, and returns that holder; or
        /// <see langword="null"/> once <paramref name="waiting"/> has completed. No sleep: the server's view of its
        /// locks.
        /// </summary>
        public async Task<Blocker?> WaitedForAsync(Task waiting)
        {
            var clock = Stopwatch.StartNew();
            while (!waiting.IsCompleted)
            {
                foreach (Blocker blocker in _blockers)
                {
                    if (!blocker.Released && await blocker.WaitedForSecondsAsync() is not null)
                    {
                        return blocker;
                    }
                }

                Assert.True(clock.Elapsed < Patience, "the waiter never showed up in pg_locks");
                await Task.Delay(Eventually.PollInterval);
            }

            return null;
        }

        public async Task ReleaseAllAsync()
        {
            foreach (Blocker blocker in _blockers)
            {
                await blocker.ReleaseAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (Blocker blocker in _blockers)
            {
                await blocker.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// An open transaction holding <c>pg_advisory_xact_lock</c> of one id's key, until <see cref="ReleaseAsync"/>.
    /// </summary>
    private sealed class Blocker : IAsyncDisposable
    {
        private const string Waiters =
            "FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND waitstart IS NOT NULL "
            + "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)";

        private readonly NpgsqlDataSource _dataSource;
        private readonly NpgsqlConnection _connection;
        private readonly string _key;

        private Blocker(NpgsqlDataSource dataSource, NpgsqlConnection connection, string key)
        {
            _dataSource = dataSource;
            _connection = connection;
            _key = key;
        }

        public bool Released { get; private set; }

        public static async Task<Blocker> HoldAsync(NpgsqlDataSource dataSource, string key)
        {
            NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
            await using (NpgsqlCommand begin = new("BEGIN", connection))
            {
                await begin.ExecuteNonQueryAsync();
            }

            await using NpgsqlCommand lockKey = new(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                connection
            );
            lockKey.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            await lockKey.ExecuteNonQueryAsync();
            return new Blocker(dataSource, connection, key);
        }

        /// <summary>
        /// Gets how long, by the server's clock, the longest waiter has waited for this lock; null when none waits.
        /// </summary>
        public Task<double?> WaitedForSecondsAsync() =>
            _dataSource.ScalarAsync<double?>(
                $"SELECT extract(epoch FROM clock_timestamp() - min(waitstart))::float8 {Waiters}",
                _key
            );

        /// <summary>
        /// Keeps the lock until its waiter has waited <paramref name="wait"/>, counted from when the server says the
        /// wait began: a hold of a set length is the point of the test that uses it, not a guess at when something
        /// happens.
        /// </summary>
        public async Task HoldUntilWaitedForAsync(TimeSpan wait)
        {
            if (await WaitedForSecondsAsync() is { } waited && waited < wait.TotalSeconds)
            {
                await _dataSource.ExecuteAsync("SELECT pg_sleep($1)", wait.TotalSeconds - waited);
            }
        }

        /// <summary>
        /// Cancels the statement of this lock's waiter, as an operator's <c>pg_cancel_backend</c> would.
        /// </summary>
        public async Task<bool> CancelWaiterAsync() =>
            await _dataSource.ScalarAsync<bool>($"SELECT bool_and(pg_cancel_backend(pid)) {Waiters}", _key);

        public async Task ReleaseAsync()
        {
            if (!Released)
            {
                Released = true;
                await using NpgsqlCommand commit = new("COMMIT", _connection);
                await commit.ExecuteNonQueryAsync();
            }
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
