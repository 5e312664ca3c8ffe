using System.Collections.Concurrent;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore.Tests.Outbox;

/// <summary>
/// Two instances, each with its dispatcher, share one EF Core outbox and one old store (docs/write-back.md): an item is
/// applied by one dispatcher at a time, shown with a gate in the old store's writes, and two dispatchers draining at
/// once apply every item once.
/// </summary>
public abstract class TwoDispatchers(TestDatabase database) : IAsyncLifetime
{
    private readonly WatchedWrites _old = new();
    private ContextFactory<StoreDb>? _db;

    public async Task InitializeAsync() => _db = await database.CreateAsync();

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    [Fact]
    public async Task ADispatcherApplyingAnItem_TheOtherNeverTakesIt_AndAWriteMeanwhileIsAppliedAfter()
    {
        await using ServiceProvider first = Instance(1);
        await using ServiceProvider second = Instance(2);
        await OldStore().UpsertAsync("a", LegacyCustomer.Create("a", 1));
        await Repository(first).SaveAsync("a", Customer.Create("a", 2));
        _old.PauseOn = "a";

        Task<int> applying = Dispatcher(first).RunOnceAsync().AsTask();
        await _old.Paused.Reached.WaitAsync(TimeSpan.FromSeconds(30)); // the first holds the item, mid-write
        await Repository(second).SaveAsync("a", Customer.Create("a", 3));
        int takenBySecond = await Dispatcher(second).RunOnceAsync();
        _old.Paused.Release();

        Assert.Equal(0, takenBySecond); // the first's lease holds, though a later write changed the item
        Assert.Equal(1, await applying);
        Assert.Equal(1, await Dispatcher(second).DrainAsync()); // released by the first's completion, due at once
        Assert.Equal(3, (await OldStore().FindAsync("a"))!.Version);
        Assert.Equal(1, _old.MostAtOnce);
        Assert.Equal(2, _old.Applied["a"]);
        Assert.Empty((await Dispatcher(first).GetStatisticsAsync()).Pending);
    }

    [Fact]
    public async Task TwoDispatchersDrainingAtOnce_ApplyEveryItemOnce_NeverOneByBoth()
    {
        const int Ids = 40;
        await using ServiceProvider first = Instance(1);
        await using ServiceProvider second = Instance(2);
        string[] ids = [.. Enumerable.Range(0, Ids).Select(i => $"customer-{i:D2}")];
        for (int i = 0; i < Ids; i++)
        {
            await Repository(i % 2 == 0 ? first : second).SaveAsync(ids[i], Customer.Create(ids[i], 7));
        }

        ServiceProvider[] instances = [first, second];
        int[] drained = await StartingGate.RunAsync(2, i => Dispatcher(instances[i]).DrainAsync().AsTask());

        Assert.Equal(Ids, drained.Sum());
        Assert.Equal(1, _old.MostAtOnce);
        Assert.All(ids, id => Assert.Equal(1, _old.Applied.GetValueOrDefault(id)));
        foreach (string id in ids)
        {
            Assert.Equal(7, (await OldStore().FindAsync(id))!.Version);
        }

        Assert.Empty((await Dispatcher(first).GetStatisticsAsync()).Pending);
    }

    private static IMigratingRepository<LegacyCustomer, Customer> Repository(IServiceProvider instance) =>
        instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

    private static IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher(IServiceProvider instance) =>
        instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

    private EntityFrameworkCoreOldStore<StoreDb, LegacyCustomer, string> OldStore() =>
        new(_db!, d => d.LegacyCustomers, c => c.Id);

    /// <summary>
    /// One service instance: its own contexts over the shared database, the EF Core new store and outbox, the shared
    /// old store behind the watch, its own dispatcher.
    /// </summary>
    private ServiceProvider Instance(int number)
    {
        _old.Inner ??= OldStore();
        var services = new ServiceCollection();
        services.AddSingleton<IDbContextFactory<StoreDb>>(
            new ContextFactory<StoreDb>(
                database.Configure(new DbContextOptionsBuilder<StoreDb>(), _db!.ConnectionString).Options,
                o => new StoreDb(o),
                _db.ConnectionString
            )
        );
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseOldStore(_old)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, StoreDb>()
            .UseInMemoryLock()
            .ConfigureOutbox(o =>
            {
                o.DispatchOnWrite = false;
                o.DispatcherId = $"instance-{number}";
            });
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// The old store, its writes counted per id and watched for two at once of one id; the writes of one id pause at a
    /// gate on demand.
    /// </summary>
    private sealed class WatchedWrites : IOldStore<LegacyCustomer>
    {
        private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
        private int _mostAtOnce;

        public IOldStore<LegacyCustomer>? Inner { get; set; }

        public string? PauseOn { get; set; }

        public PauseGate Paused { get; } = new();

        public ConcurrentDictionary<string, int> Applied { get; } = new(StringComparer.Ordinal);

        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

        public ValueTask<LegacyCustomer?> FindAsync(string id, CancellationToken cancellationToken = default) =>
            Inner!.FindAsync(id, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, LegacyCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        ) => Inner!.FindManyAsync(ids, cancellationToken);

        public IAsyncEnumerable<KeyValuePair<string, LegacyCustomer>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => Inner!.ScanAsync(afterId, cancellationToken);

        public void ValidateId(string id) => Inner!.ValidateId(id);

        public async ValueTask UpsertAsync(
            string id,
            LegacyCustomer entity,
            CancellationToken cancellationToken = default
        )
        {
            int atOnce = _inFlight.AddOrUpdate(id, 1, (_, n) => n + 1);
            InterlockedMax(ref _mostAtOnce, atOnce);
            try
            {
                if (PauseOn == id)
                {
                    await Paused.PauseAsync(cancellationToken);
                }

                await Inner!.UpsertAsync(id, entity, cancellationToken);
                Applied.AddOrUpdate(id, 1, (_, n) => n + 1);
            }
            finally
            {
                _inFlight.AddOrUpdate(id, 0, (_, n) => n - 1);
            }
        }

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            Inner!.DeleteAsync(id, cancellationToken);

        private static void InterlockedMax(ref int location, int value)
        {
            int seen = Volatile.Read(ref location);
            while (value > seen)
            {
                int before = Interlocked.CompareExchange(ref location, value, seen);
                if (before == seen)
                {
                    return;
                }

                seen = before;
            }
        }
    }
}

public sealed class SqliteTwoDispatchersTests() : TwoDispatchers(new SqliteFiles(writeAheadLog: true));

[Collection("postgres")]
public sealed class PostgresTwoDispatchersTests(PostgresServer server) : TwoDispatchers(new PostgresDatabases(server));
