using System.Diagnostics;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The migration locks the new store takes itself (<see cref="ILockingNewStore{TNew}"/>): transaction advisory locks
/// taken with the re-read in one round trip and released by the insert's commit, or a rollback, in another.
/// </summary>
[Collection("postgres")]
public sealed class NewStoreLockTests(PostgresServer server)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TryLock_ReadsValuesAndTombstones_AndLeavesMissingIdsOut()
    {
        var store = NewStore();
        await store.UpsertAsync("saved", Customer.Create("saved", 3));
        await store.DeleteAsync("deleted");

        await using INewStoreLock<Customer>? held = await store.TryLockAsync(
            ["saved", "deleted", "missing"],
            TimeSpan.Zero
        );

        Assert.NotNull(held);
        Assert.Equal(["deleted", "saved"], held.Current.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, held.Current["saved"].Value!.Version);
        Assert.Equal(NewStoreState.Deleted, held.Current["deleted"].State);
        Assert.True(held.HandleLostToken.CanBeCanceled); // the lock tells of a loss, at its release
        Assert.False(held.HandleLostToken.IsCancellationRequested);
        Assert.Equal(1, await CountHoldersAsync(store.LockKey("missing")));
    }

    [Fact]
    public async Task TryLock_WithZeroTimeout_OnAnIdLockedElsewhere_ReturnsNull_AndKeepsNoneOfItsOtherIds()
    {
        var (holder, other) = TwoStoresOverOneTable();
        await using INewStoreLock<Customer>? held = await holder.TryLockAsync(["a", "b"], TimeSpan.Zero);

        INewStoreLock<Customer>? refused = await other.TryLockAsync(["c", "b", "d"], TimeSpan.Zero);

        Assert.NotNull(held);
        Assert.Null(refused);
        Assert.Equal(0, await CountHoldersAsync(other.LockKey("c")));
        Assert.Equal(0, await CountHoldersAsync(other.LockKey("d")));
        await using INewStoreLock<Customer>? rest = await other.TryLockAsync(["c", "d"], TimeSpan.Zero);
        Assert.NotNull(rest);
    }

    [Fact]
    public async Task TryLock_WithASmallTimeout_OnAnIdLockedElsewhere_WaitsThatLongThenReturnsNull()
    {
        var (holder, other) = TwoStoresOverOneTable();
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);
        await using INewStoreLock<Customer>? held = await holder.TryLockAsync(["a"], TimeSpan.Zero);

        var clock = Stopwatch.StartNew();
        INewStoreLock<Customer>? refused = await other.TryLockAsync(["z", "a"], timeout);
        clock.Stop();

        Assert.NotNull(held);
        Assert.Null(refused);
        Assert.True(clock.Elapsed >= timeout * 0.9, $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, await CountHoldersAsync(other.LockKey("z")));
        Assert.Equal(1, await CountHoldersAsync(other.LockKey("a")));
    }

    [Fact]
    public async Task InsertAndRelease_ReportsExactlyTheInsertedIds_AndUnlocksThemAll()
    {
        var (store, other) = TwoStoresOverOneTable();
        await store.UpsertAsync("saved", Customer.Create("saved", 1));
        await store.DeleteAsync("deleted");
        INewStoreLock<Customer>? held = await store.TryLockAsync(["new", "saved", "deleted"], TimeSpan.Zero);

        IReadOnlyCollection<string> inserted = await held!.InsertManyIfAbsentAndReleaseAsync([
            new("new", Customer.Create("new", 9)),
            new("saved", Customer.Create("saved", 9)),
            new("deleted", Customer.Create("deleted", 9)),
        ]);
        await held.DisposeAsync();

        Assert.Equal(["new"], inserted);
        await using INewStoreLock<Customer>? again = await other.TryLockAsync(
            ["new", "saved", "deleted"],
            TimeSpan.Zero
        );
        Assert.NotNull(again);
        Assert.Equal(9, again.Current["new"].Value!.Version);
        Assert.Equal(1, again.Current["saved"].Value!.Version);
        Assert.Equal(NewStoreState.Deleted, again.Current["deleted"].State);
    }

    [Fact]
    public async Task Dispose_WithoutInsert_ReleasesTheLocks_AndWritesNothing()
    {
        var (store, other) = TwoStoresOverOneTable();
        INewStoreLock<Customer>? held = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);

        await held!.DisposeAsync();
        await held.DisposeAsync();

        Assert.Equal(0, await CountHoldersAsync(store.LockKey("a")));
        await using INewStoreLock<Customer>? again = await other.TryLockAsync(["b", "a"], TimeSpan.Zero);
        Assert.NotNull(again);
        Assert.Empty(again.Current);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await held.InsertManyIfAbsentAndReleaseAsync([new("a", Customer.Create("a", 1))])
        );
        Assert.Empty(await store.FindManyAsync(["a", "b"]));
    }

    [Fact]
    public async Task AWaiter_GetsTheLockWhenTheHolderCommits_AndReadsWhatItCommitted_EvenUnderRepeatableRead()
    {
        // Under repeatable read the re-read would use the snapshot taken before the wait, and miss the holder's insert.
        string connectionString = await server.CreateDatabaseAsync();
        await server.DataSource.ExecuteAsync(
            $"ALTER DATABASE \"{new NpgsqlConnectionStringBuilder(connectionString).Database}\" "
                + "SET default_transaction_isolation = 'repeatable read'"
        );
        await using NpgsqlDataSource repeatableRead = NpgsqlDataSource.Create(connectionString);
        string table = TestDatabase.UniqueTable();
        var holder = new PostgreSqlNewStore<Customer>(repeatableRead, TestDatabase.Options(table));
        var waiter = new PostgreSqlNewStore<Customer>(repeatableRead, TestDatabase.Options(table));
        Assert.Equal("repeatable read", await repeatableRead.ScalarAsync<string>("SHOW transaction_isolation"));

        INewStoreLock<Customer>? held = await holder.TryLockAsync(["a"], TimeSpan.Zero);
        Task<INewStoreLock<Customer>?> waiting = waiter.TryLockAsync(["a"], Patience).AsTask();
        await AdvisoryLockWaiters.UntilWaitedForAsync(repeatableRead, holder.LockKey("a"));
        Assert.False(waiting.IsCompleted);
        await held!.InsertManyIfAbsentAndReleaseAsync([new("a", Customer.Create("a", 5))]);
        await using INewStoreLock<Customer>? next = await waiting.WaitAsync(Patience);

        Assert.NotNull(next);
        Assert.Equal(5, next.Current["a"].Value!.Version);
    }

    [Fact]
    public async Task AKilledBackend_WhileHeld_MakesTheInsertThrow_WritesNothing_AndFreesTheIds()
    {
        var (store, other) = TwoStoresOverOneTable();
        INewStoreLock<Customer>? held = await store.TryLockAsync(["a", "b"], TimeSpan.Zero);

        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(store.LockKey("a")));
        var failure = await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
            await held!.InsertManyIfAbsentAndReleaseAsync([
                new("a", Customer.Create("a", 1)),
                new("b", Customer.Create("b", 1)),
            ])
        );
        var retried = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await held!.InsertManyIfAbsentAndReleaseAsync([new("a", Customer.Create("a", 1))])
        );
        await held!.DisposeAsync();

        Assert.True(failure.IsTransient);
        Assert.Same(failure, retried.InnerException);
        Assert.True(held.HandleLostToken.IsCancellationRequested); // the failed insert's release found the lock gone
        Assert.Empty(await store.FindManyAsync(["a", "b"]));
        await using INewStoreLock<Customer>? again = await other.TryLockAsync(["a", "b"], TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task AKilledBackend_WhileHeld_DisposesQuietly()
    {
        var (store, other) = TwoStoresOverOneTable();
        INewStoreLock<Customer>? held = await store.TryLockAsync(["a"], TimeSpan.Zero);

        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(store.LockKey("a")));
        await held!.DisposeAsync();

        await using INewStoreLock<Customer>? again = await other.TryLockAsync(["a"], TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task AKilledBackend_WhileHeld_CancelsHandleLostToken_AtTheRelease_ANormalReleaseDoesNot()
    {
        var (store, other) = TwoStoresOverOneTable();
        INewStoreLock<Customer>? killed = await store.TryLockAsync(["a"], TimeSpan.Zero);
        INewStoreLock<Customer>? readLate = await store.TryLockAsync(["b"], TimeSpan.Zero);
        INewStoreLock<Customer>? disposed = await store.TryLockAsync(["c"], TimeSpan.Zero);
        INewStoreLock<Customer>? inserted = await store.TryLockAsync(["d"], TimeSpan.Zero);
        CancellationToken lost = killed!.HandleLostToken; // read before the loss, as a write-back does
        CancellationToken kept = disposed!.HandleLostToken;
        CancellationToken committed = inserted!.HandleLostToken;

        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(store.LockKey("a")));
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(store.LockKey("b")));
        Assert.False(lost.IsCancellationRequested); // not known while held: nothing reads the connection
        await killed.DisposeAsync();
        await readLate!.DisposeAsync();
        await disposed.DisposeAsync();
        await inserted.InsertManyIfAbsentAndReleaseAsync([new("d", Customer.Create("d", 1))]);

        Assert.True(lost.IsCancellationRequested, "the release's failed ROLLBACK did not tell that the lock was lost");
        Assert.True(readLate.HandleLostToken.IsCancellationRequested); // read only after the release
        Assert.False(kept.IsCancellationRequested);
        Assert.False(disposed.HandleLostToken.IsCancellationRequested);
        Assert.False(committed.IsCancellationRequested);
        await using INewStoreLock<Customer>? again = await other.TryLockAsync(["a", "b", "c"], TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task AWaitCancelled_ThrowsAndLeavesNoLockBehind()
    {
        var (holder, waiter) = TwoStoresOverOneTable();
        await using INewStoreLock<Customer>? held = await holder.TryLockAsync(["a"], TimeSpan.Zero);
        using var cancellation = new CancellationTokenSource();

        Task<INewStoreLock<Customer>?> waiting = waiter
            .TryLockAsync(["b", "a"], Timeout.InfiniteTimeSpan, cancellation.Token)
            .AsTask();
        await AdvisoryLockWaiters.UntilWaitedForAsync(server.DataSource, holder.LockKey("a"));
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, await CountHoldersAsync(waiter.LockKey("b")));
        Assert.Equal(1, await CountHoldersAsync(waiter.LockKey("a")));
    }

    [Fact]
    public async Task TheSameId_InTwoTables_IsTwoLocks()
    {
        await using INewStoreLock<Customer>? first = await NewStore().TryLockAsync(["a"], TimeSpan.Zero);
        await using INewStoreLock<Customer>? second = await NewStore().TryLockAsync(["a"], TimeSpan.Zero);

        Assert.NotNull(first);
        Assert.NotNull(second);
    }

    [Fact]
    public async Task TryLock_AndInsertAndRelease_AreOneRoundTripEach_WhenTheLocksAreFree()
    {
        var store = NewStore();
        await store.FindAsync("warm-up"); // creates the table: the schema gate's queries are not the lock's
        using var recorder = new StatementRecorder();

        INewStoreLock<Customer>? held;
        using (recorder.Step("lock"))
        {
            held = await store.TryLockAsync(["a", "b"], TimeSpan.FromSeconds(5));
        }

        using (recorder.Step("insert"))
        {
            await held!.InsertManyIfAbsentAndReleaseAsync([
                new("a", Customer.Create("a", 1)),
                new("b", Customer.Create("b", 1)),
            ]);
        }

        using (recorder.Step("try"))
        {
            await using INewStoreLock<Customer>? again = await store.TryLockAsync(["a"], TimeSpan.Zero);
        }

        string locking = Assert.Single(recorder.Of("lock"));
        AssertReadsFollowTheLocks(locking, "pg_try_advisory_xact_lock");
        string inserting = Assert.Single(recorder.Of("insert"));
        Assert.Contains("INSERT", inserting, StringComparison.Ordinal);
        Assert.Contains("COMMIT", inserting, StringComparison.Ordinal);
        Assert.Equal(2, recorder.Of("try").Count); // the lock, and the dispose's ROLLBACK
    }

    [Fact]
    public async Task TryLock_OnALockHeldElsewhere_TriesOnceThenWaitsInARoundTripOfItsOwn()
    {
        var (holder, waiter) = TwoStoresOverOneTable();
        INewStoreLock<Customer>? held = await holder.TryLockAsync(["a"], TimeSpan.Zero);
        await waiter.FindAsync("warm-up"); // the waiter's schema gate checks the table once: not the lock's round trip
        using var recorder = new StatementRecorder();

        Task<INewStoreLock<Customer>?> waiting;
        using (recorder.Step("wait"))
        {
            waiting = waiter.TryLockAsync(["a"], Patience).AsTask();
        }

        await AdvisoryLockWaiters.UntilWaitedForAsync(server.DataSource, holder.LockKey("a"));
        await held!.InsertManyIfAbsentAndReleaseAsync([new("a", Customer.Create("a", 4))]);
        await using INewStoreLock<Customer>? next = await waiting.WaitAsync(Patience);

        Assert.Equal(4, next!.Current["a"].Value!.Version);
        IReadOnlyList<string> roundTrips = recorder.Of("wait");
        Assert.Equal(2, roundTrips.Count);
        Assert.Contains("pg_try_advisory_xact_lock", roundTrips[0], StringComparison.Ordinal);
        Assert.Contains("lock_timeout", roundTrips[1], StringComparison.Ordinal);
        Assert.Contains("statement_timeout", roundTrips[1], StringComparison.Ordinal);
        AssertReadsFollowTheLocks(roundTrips[1], "pg_advisory_xact_lock");
    }

    /// <summary>
    /// Asserts that a lock's round trip reads the table in a statement after the one that takes the locks. Under read
    /// committed a statement sees the table as it was when the statement started: reads in the statement that takes
    /// the locks would miss what a holder committed and released a moment before its lock was granted, and the
    /// migration would read the old row and map it a second time (seen as two mapper calls of one id in the
    /// four-instance invariant test).
    /// </summary>
    private static void AssertReadsFollowTheLocks(string roundTrip, string lockFunction)
    {
        string[] statements = roundTrip.Split(
            ';',
            StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries
        );
        int locks = Array.FindIndex(statements, s => s.Contains(lockFunction, StringComparison.Ordinal));
        int reads = Array.FindIndex(statements, s => s.Contains("n.deleted, n.payload", StringComparison.Ordinal));
        Assert.True(locks >= 0, $"no statement takes the locks in: {roundTrip}");
        Assert.True(reads > locks, $"the reads are not a statement after the locks in: {roundTrip}");
    }

    [Fact]
    public async Task UseNewStoreLock_OverUsePostgreSqlNewStore_MigratesOnDemand_WithNoLockProvider()
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true))
            .UseNewStoreLock();
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        await provider
            .GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer")
            .UpsertAsync("a", LegacyCustomer.Create("a", 5));
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        Assert.Equal(MigrationOutcome.Migrated, await repository.MigrateAsync("a"));
        Assert.Equal(5, (await repository.GetAsync("a"))!.Version);
        Assert.Null(provider.GetService<IMigrationLockProvider>());
    }

    [Fact]
    public async Task TryLock_RejectsBadInputBeforeAnyCommand()
    {
        var store = NewStore();
        await using NpgsqlDataSource multiplexing = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { Multiplexing = true }.ConnectionString
        );

        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await store.TryLockAsync(["ok", "bad\0id"], TimeSpan.Zero)
        );
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.TryLockAsync([], TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await store.TryLockAsync(["a"], TimeSpan.FromSeconds(-2))
        );
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await new PostgreSqlNewStore<Customer>(multiplexing, TestDatabase.Options()).TryLockAsync(
                ["a"],
                TimeSpan.Zero
            )
        );
    }

    [Fact]
    public void LockAndStatementTimeouts_AreWholeMillisecondsAndNeverZero_ExceptForNoLimit()
    {
        Assert.Equal("SET LOCAL lock_timeout = 1", StoreLockSql.SetLockTimeout(TimeSpan.FromTicks(1)));
        Assert.Equal("SET LOCAL lock_timeout = 1501", StoreLockSql.SetLockTimeout(TimeSpan.FromMilliseconds(1500.2)));
        Assert.Equal("SET LOCAL lock_timeout = 0", StoreLockSql.SetLockTimeout(Timeout.InfiniteTimeSpan));
        Assert.Equal("SET LOCAL lock_timeout = 2147483647", StoreLockSql.SetLockTimeout(TimeSpan.FromDays(30)));
        Assert.Equal(
            "SET LOCAL statement_timeout = 1501",
            StoreLockSql.SetStatementTimeout(TimeSpan.FromMilliseconds(1500.2))
        );
        Assert.Equal("SET LOCAL statement_timeout = 1", StoreLockSql.SetStatementTimeout(TimeSpan.FromTicks(1)));
    }

    private PostgreSqlNewStore<Customer> NewStore() => new(server.DataSource, TestDatabase.Options());

    /// <summary>Two store instances over one table, as two service instances would have.</summary>
    private (PostgreSqlNewStore<Customer> First, PostgreSqlNewStore<Customer> Second) TwoStoresOverOneTable()
    {
        string table = TestDatabase.UniqueTable();
        return (
            new(server.DataSource, TestDatabase.Options(table)),
            new(server.DataSource, TestDatabase.Options(table))
        );
    }

    private async Task<long> CountHoldersAsync(string key) =>
        await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM ({AdvisoryLockSql.Holder}) AS holder", key);
}
