using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The lock contract, batches included, on <see cref="PostgreSqlAdvisoryLockProvider"/>; a lock is lost by terminating
/// its backend. Each instance has a data source (a pool) of its own under its own application name, as a separate
/// service would: the lock never competes with the stores for connections, and a waiter shows in
/// <c>pg_stat_activity</c> as a session of one of these instances between two tries.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlAdvisoryLockConformanceTests(PostgresServer server)
    : BatchLockConformanceTests,
        IAsyncLifetime
{
    private static readonly string[] TryStatements =
    [
        AdvisoryLockSql.TryLock,
        AdvisoryLockSql.TryLockMany,
        // A batch partly granted releases what it got before it sleeps.
        AdvisoryLockSql.Unlock,
        AdvisoryLockSql.UnlockMany,
    ];

    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly List<NpgsqlDataSource> _instances = [];

    protected override Task<IMigrationBatchLockProvider> CreateBatchProviderAsync()
    {
        NpgsqlDataSource instance;
        lock (_instances)
        {
            instance = NpgsqlDataSource.Create(
                new NpgsqlConnectionStringBuilder(server.ConnectionString)
                {
                    ApplicationName = ApplicationName(_instances.Count),
                }.ConnectionString
            );
            _instances.Add(instance);
        }

        return Task.FromResult<IMigrationBatchLockProvider>(new PostgreSqlAdvisoryLockProvider(instance));
    }

    protected override async Task LoseAsync(string key, IMigrationLockHandle handle) =>
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));

    /// <summary>
    /// The provider polls with <c>pg_try_advisory_lock</c> and never waits on the server: a waiter is a session of
    /// this test's instances, idle after a try, holding no advisory lock. The waiters of these tests wait on their
    /// instance's first connection, so no connection given back to a pool is taken for one.
    /// </summary>
    protected override Task WaitUntilWaitingAsync(string key)
    {
        string[] names;
        lock (_instances)
        {
            names = [.. Enumerable.Range(0, _instances.Count).Select(ApplicationName)];
        }

        return AdvisoryLockWaiters.UntilBetweenTriesAsync(server.DataSource, names, TryStatements);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (NpgsqlDataSource instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }

    private string ApplicationName(int instance) => $"lazymigrate-lock-{_run}-{instance}";
}
