using System.Collections.Concurrent;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// The instance that outlives the crash: the same migration over the same tables as the child (the same name, so the
/// same event ids and locks), in this process, with a recording handler and a fake clock to move past the dead child's
/// leases. It also seeds the old store and names the tables and the child's sessions.
/// </summary>
internal sealed class CrashSurvivor : IAsyncDisposable
{
    /// <summary>The lease the child's claims take, in seconds.</summary>
    public const int ChildLeaseSeconds = 30;

    private readonly PostgresServer _server;
    private readonly ServiceProvider _provider;
    private readonly string _childApplication = $"crash-{Guid.NewGuid():N}";

    public CrashSurvivor(PostgresServer server)
    {
        _server = server;
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        var mapper = new CustomerMapper();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(mapper)
            .UseReverseMapper(mapper)
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (OldTable, true), server.DataSource)
            .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (OutboxTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (NewTable, true), server.DataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: server.LockDataSource)
            .OnMigrated(
                (migrated, _) =>
                {
                    Delivered.Enqueue(migrated);
                    return ValueTask.CompletedTask;
                }
            )
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        _provider = services.BuildServiceProvider();
        Old = _provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer");
        Repository = _provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Dispatcher = _provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
    }

    public string OldTable { get; } = TestDatabase.UniqueTable("crash_old");

    public string NewTable { get; } = TestDatabase.UniqueTable("crash_new");

    public string OutboxTable { get; } = TestDatabase.UniqueTable("crash_outbox");

    /// <summary>Starts at the machine's time, which the child's leases and items are stamped with.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public IOldStore<LegacyCustomer> Old { get; }

    public IMigratingRepository<LegacyCustomer, Customer> Repository { get; }

    public IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher { get; }

    /// <summary>Every event this process's dispatcher delivered.</summary>
    public ConcurrentQueue<EntityMigrated<LegacyCustomer, Customer>> Delivered { get; } = new();

    /// <summary>The child's arguments after its crash point: the tables, its sessions' name, the workload.</summary>
    public IEnumerable<string> ChildArguments(CrashWorkload workload, int pass = 0)
    {
        var connection = new NpgsqlConnectionStringBuilder(_server.ConnectionString)
        {
            ApplicationName = _childApplication,
        };
        return
        [
            $"connection={connection.ConnectionString}",
            $"old={OldTable}",
            $"new={NewTable}",
            $"outbox={OutboxTable}",
            $"migrate={string.Join(',', workload.Migrate)}",
            $"save={string.Join(',', workload.Save)}",
            $"delete={string.Join(',', workload.Delete)}",
            $"saved-version={CrashWorkload.SavedVersion}",
            $"pass={pass}",
            $"lease-seconds={ChildLeaseSeconds}",
        ];
    }

    /// <summary>Each id at version 1 in the old store (which creates the old table).</summary>
    public async Task SeedAsync(IEnumerable<string> ids)
    {
        foreach (string id in ids)
        {
            await Old.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }
    }

    /// <summary>The outbox's rows, pending, leased or dead-lettered alike.</summary>
    public async Task<long> OutboxRowsAsync(string where = "true") =>
        await _server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM {OutboxTable} WHERE {where}");

    /// <summary>
    /// Returns once the server has ended every session of the killed child (it notices the closed sockets), so the
    /// advisory locks it held are free.
    /// </summary>
    public Task ChildSessionsEndedAsync() =>
        Eventually.TrueAsync(
            async () =>
                await _server.DataSource.ScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    _childApplication
                ) == 0,
            what: "The killed child's sessions ending"
        );

    /// <summary>Moves the clock past the dead child's leases and drains the outbox.</summary>
    public async Task DrainAfterTheChildsLeasesAsync()
    {
        Clock.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(ChildLeaseSeconds + 1));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Dispatcher.DrainAsync(bound.Token);
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
