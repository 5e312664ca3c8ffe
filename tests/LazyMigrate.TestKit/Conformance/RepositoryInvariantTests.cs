using System.Collections.Concurrent;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) on an adapter's real stores and lock: several repository instances
/// (separate containers, as separate service instances would have) over the same stores and lock backend.
/// </summary>
/// <remarks>
/// The suite is one class over several files (<c>RepositoryInvariantTests.*.cs</c>), one per invariant family, so that
/// every adapter that inherits it runs all of them with one set of adapter hooks.
/// </remarks>
public abstract partial class RepositoryInvariantTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly ConcurrentQueue<EntityMigrated<LegacyCustomer, Customer>> _events = new();

    // Every instance's dispatcher, kept past its container: the events are delivered on the dispatcher's side.
    private readonly ConcurrentBag<IMigrationDispatcher<LegacyCustomer, Customer>> _dispatchers = [];

    /// <summary>The mapper every instance shares unless a test gives its own: it counts mapper calls by id.</summary>
    private readonly CountingMapper _mapper = new();

    protected abstract Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync();

    protected abstract Task<INewStore<Customer>> CreateNewStoreAsync();

    /// <summary>Creates another instance's lock provider over the shared backend.</summary>
    protected abstract Task<IMigrationLockProvider> CreateLockProviderAsync();

    /// <summary>Makes the backend lose the lock held under <paramref name="key"/>.</summary>
    protected abstract Task LoseLockAsync(string key);

    /// <summary>
    /// Gets whether the new store takes the locks itself (<c>UseNewStoreLock</c>) instead of the lock provider.
    /// </summary>
    protected virtual bool LockInNewStore => false;

    /// <summary>
    /// Gets whether the new store's locks read the old store along (<see cref="IOldStoreReadAlong{TOld}"/>, the
    /// PostgreSQL new store over a PostgreSQL old table): the suite then checks that the migrations took that path, and
    /// counts their old reads there (a counting wrapper around the old store would turn the read-along off).
    /// </summary>
    protected virtual bool ReadsOldAlong => false;

    /// <summary>
    /// Gets whether a migration whose lock was lost mid-migration fails instead of finishing. A provider's lock does
    /// not stop the migration: its insert-if-absent loses to the winner's row, and it returns that row
    /// (docs/read-path.md, docs/distributed-lock.md). A store-held lock takes the insert with it: the insert runs in
    /// the lock's transaction, which died with the lock, so the migration fails with a <see
    /// cref="MigrationStoreException"/> of the new store and writes nothing (docs/postgresql.md, "Lock loss").
    /// </summary>
    protected virtual bool LostLockFailsTheMigration => LockInNewStore;

    protected static string Id(int n) => $"customer-{n:D4}";

    [Fact]
    public async Task FourInstances_64ConcurrentReaders_200Ids_EachIdReadMappedInsertedAndAnnouncedOnce()
    {
        const int Ids = 200;
        var (old, counting) = await CreateStoresAsync(Ids);
        var countingOld = new CountingOldStore<LegacyCustomer>(old);
        var instances = new List<ServiceProvider>();
        for (int i = 0; i < 4; i++)
        {
            instances.Add(await CreateInstanceAsync(ReadsOldAlong ? old : countingOld, counting));
        }

        try
        {
            int[] misses = await StartingGate.RunAsync(
                64,
                async reader =>
                {
                    var repository = Repository(instances[reader % instances.Count]);
                    int wrong = 0;
                    for (int n = reader % 7; n < Ids; n += 3)
                    {
                        Customer? customer = await repository.GetAsync(Id(n));
                        wrong += customer is { Version: var v } && v == n ? 0 : 1;
                    }

                    return wrong;
                }
            );

            Assert.All(misses, m => Assert.Equal(0, m));
            await AssertEachIdMigratedOnceAsync(Ids, counting, countingOld);
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task SecondInstanceFindsTheLockHeldMidMigration_WaitsAndFindsTheRow_OneMapperCallInsertAndEvent()
    {
        LockContention contention = await RunLockContentionAsync(lockProvider: null);

        Assert.True(contention.SecondFoundTheLockHeld, "the second instance was granted the lock the first held");
        Assert.Equal(1, contention.MapCalls);
        Assert.Equal(1, contention.Inserted);
        Assert.Equal(1, contention.Events);
        Assert.Equal([0, 0], contention.Versions);
        AssertTheReadAlongPathRan(contention.Store);
    }

    [Fact]
    public async Task MigrationPausedAfterItsOldRead_NeverOverwritesAConcurrentSave()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var pause = new PauseGate();
        await using var pausing = await CreateInstanceAsync(old, new CountingNewStore<Customer>(counting, pause));
        await using var writer = await CreateInstanceAsync(old, counting);
        var saved = Customer.Create(Id(0), 42);

        Task<Customer?> migrating = Repository(pausing).GetAsync(Id(0)).AsTask();
        await pause.Reached.WaitAsync(Patience); // read, mapped, about to insert, lock held
        await Repository(writer).SaveAsync(Id(0), saved);
        pause.Release();

        Assert.Equal(42, (await migrating)!.Version);
        Assert.Equal(42, (await Repository(writer).GetAsync(Id(0)))!.Version);
        Assert.Equal(0, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Empty(_events);
        AssertTheReadAlongPathRan(counting);
    }

    [Fact]
    public async Task MigrationPausedAfterItsOldRead_NeverResurrectsAConcurrentDelete()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var pause = new PauseGate();
        await using var pausing = await CreateInstanceAsync(old, new CountingNewStore<Customer>(counting, pause));
        await using var writer = await CreateInstanceAsync(old, counting);

        Task<Customer?> migrating = Repository(pausing).GetAsync(Id(0)).AsTask();
        await pause.Reached.WaitAsync(Patience);
        await Repository(writer).DeleteAsync(Id(0));
        pause.Release();

        Assert.Null(await migrating);
        Assert.Null(await Repository(writer).GetAsync(Id(0)));
        Assert.Equal(MigrationOutcome.Deleted, await Repository(pausing).MigrateAsync(Id(0)));
        await DrainEventsAsync();
        Assert.Empty(_events);
        AssertTheReadAlongPathRan(counting);
    }

    [Fact]
    public async Task Deleted_StaysDeletedForEveryReaderOnEveryInstance()
    {
        var (old, counting) = await CreateStoresAsync(3);
        await using var first = await CreateInstanceAsync(old, counting);
        await using var second = await CreateInstanceAsync(old, counting);
        await Repository(first).GetAsync(Id(1));

        await Repository(first).DeleteAsync(Id(0));
        await Repository(first).DeleteAsync(Id(1));

        Assert.Null(await Repository(second).GetAsync(Id(0)));
        Assert.Null(await Repository(second).GetAsync(Id(1)));
        Assert.Equal(MigrationOutcome.Deleted, await Repository(second).MigrateAsync(Id(0)));
        Assert.Equal([Id(2)], (await Repository(second).GetManyAsync([Id(0), Id(1), Id(2)])).Keys);
    }

    [Fact]
    public async Task LockLostMidMigration_StillOneRowAndOneEvent()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var pause = new PauseGate();
        var firstStore = new CountingNewStore<Customer>(counting, pause);
        await using var first = await CreateInstanceAsync(old, firstStore);
        await using var second = await CreateInstanceAsync(old, counting);

        Task<Customer?> firstRead = Repository(first).GetAsync(Id(0)).AsTask();
        await pause.Reached.WaitAsync(Patience); // read, mapped, about to insert
        await LoseLockAsync(MigrationLockKeys.For("LegacyCustomer->Customer", Id(0)));
        Customer? secondValue = await Repository(second).GetAsync(Id(0));
        pause.Release();

        Assert.Equal(0, secondValue!.Version);
        if (LostLockFailsTheMigration)
        {
            // The insert died with the lock's transaction: a typed error of the new store, nothing written.
            var error = await Assert.ThrowsAsync<MigrationStoreException>(() => firstRead.WaitAsync(Patience));
            Assert.Equal((MigrationRole.NewStore, Id(0)), (error.Role, error.EntityId));
            Assert.Equal(0, (await Repository(first).GetAsync(Id(0)))!.Version); // the next read finds the row
        }
        else
        {
            // The migration went on, and its insert lost to the row of the instance that took the lock.
            Assert.Equal(0, (await firstRead.WaitAsync(Patience))!.Version);
        }

        Assert.Equal(0, firstStore.InsertedCount);
        Assert.Equal(1, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Single(_events);
        AssertTheReadAlongPathRan(counting);
    }

    [Fact]
    public async Task SyncWriteBack_EverySaveAndDeleteReachesTheOldStore()
    {
        var (old, counting) = await CreateStoresAsync(4);
        await using var instance = await CreateInstanceAsync(old, counting, o => o.WriteBackMode = WriteBackMode.Sync);
        var repository = Repository(instance);

        await repository.GetAsync(Id(0));
        await repository.SaveAsync(Id(1), Customer.Create(Id(1), 11));
        await repository.DeleteAsync(Id(2));
        await repository.SaveAsync("brand-new", Customer.Create("brand-new", 7));

        Assert.Equal("First0 Last0", (await old.FindAsync(Id(0)))!.FullName);
        Assert.Equal("First11 Last11", (await old.FindAsync(Id(1)))!.FullName);
        Assert.Null(await old.FindAsync(Id(2)));
        Assert.Equal(7, (await old.FindAsync("brand-new"))!.Version);
        Assert.Equal(3, (await old.FindAsync(Id(3)))!.Version);
    }

    /// <summary>
    /// The first instance's migration of an id is held after its old read and mapper, before its insert, with its lock
    /// held; a second instance then reads the id. Once the second has either found the lock held (a try refused by the
    /// <see cref="LockProbe"/>) or finished, the first goes on. <paramref name="lockProvider"/> replaces the adapter's
    /// lock for both instances (a broken lock).
    /// </summary>
    /// <remarks>
    /// Whether the second finished or found the lock held is known before the first goes on, so the outcome does not
    /// depend on timing: a lock that grants everyone lets the second read, map and insert while the first is held, two
    /// mapper calls; a working one makes it wait, then find the first's row.
    /// </remarks>
    protected async Task<LockContention> RunLockContentionAsync(IMigrationLockProvider? lockProvider)
    {
        var (old, counting) = await CreateStoresAsync(1);
        var pause = new PauseGate();
        var probe = new LockProbe();
        bool probeInStore = LockInNewStore && lockProvider is null;
        await using var first = await CreateInstanceAsync(
            old,
            new CountingNewStore<Customer>(counting, pause),
            lockProvider: lockProvider
        );
        await using var second = await CreateInstanceAsync(
            old,
            probeInStore ? new CountingNewStore<Customer>(counting, lockProbe: probe) : counting,
            lockProvider: probeInStore
                ? null
                : new ProbingLockProvider(lockProvider ?? await CreateLockProviderAsync(), probe)
        );

        Task<Customer?> firstRead = Repository(first).GetAsync(Id(0)).AsTask();
        await pause.Reached.WaitAsync(Patience);
        Task<Customer?> secondRead = Repository(second).GetAsync(Id(0)).AsTask();
        await Task.WhenAny(probe.Refused, secondRead).WaitAsync(Patience);
        bool secondFoundTheLockHeld = probe.Refused.IsCompleted;
        pause.Release();
        Customer?[] values = await Task.WhenAll(firstRead, secondRead).WaitAsync(Patience);
        await DrainEventsAsync();

        return new LockContention(
            counting,
            secondFoundTheLockHeld,
            _mapper.MapCallsFor(Id(0)),
            counting.InsertedCount,
            _events.Count,
            [.. values.Select(v => v?.Version ?? -1)]
        );
    }

    /// <summary>
    /// Asserts that each of the first <paramref name="ids"/> ids was migrated once: one insert and one event each and,
    /// what the lock buys over insert-if-absent alone, one old read and one mapper call each (one instance at a time
    /// migrates an id; the others, re-reading the new store under the lock, find it there).
    /// </summary>
    private async Task AssertEachIdMigratedOnceAsync(
        int ids,
        CountingNewStore<Customer> counting,
        CountingOldStore<LegacyCustomer> countingOld
    )
    {
        Assert.Equal(ids, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Equal(ids, _events.Count);
        Assert.Equal(ids, _events.Select(e => e.EntityId).Distinct().Count());
        AssertTheReadAlongPathRan(counting);
        Assert.All(Enumerable.Range(0, ids).Select(Id), id => Assert.Equal(1, _mapper.MapCallsFor(id)));
        Assert.All(
            Enumerable.Range(0, ids).Select(Id),
            id => Assert.Equal(1, ReadsOldAlong ? counting.OldReadsAlongFor(id) : countingOld.ReadsFor(id))
        );
    }

    /// <summary>
    /// With a store-held lock that reads the old store along, checks that the migrations took that path (every lock
    /// granted read along); otherwise that no lock claimed to.
    /// </summary>
    private void AssertTheReadAlongPathRan(CountingNewStore<Customer> counting)
    {
        if (ReadsOldAlong)
        {
            Assert.True(counting.Locks > 0, "no store-held lock was taken");
            Assert.True(
                counting.ReadAlongLocks == counting.Locks,
                $"{counting.Locks - counting.ReadAlongLocks} of {counting.Locks} store-held locks did not read the old "
                    + "store along: the migrations did not run the read-along path"
            );
        }
        else
        {
            Assert.Equal(0, counting.ReadAlongLocks);
        }
    }

    private static IMigratingRepository<LegacyCustomer, Customer> Repository(IServiceProvider instance) =>
        instance.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

    private async Task<(IOldStore<LegacyCustomer> Old, CountingNewStore<Customer> New)> CreateStoresAsync(
        int legacyRecords
    )
    {
        IOldStore<LegacyCustomer> old = await CreateOldStoreAsync();
        for (int n = 0; n < legacyRecords; n++)
        {
            await old.UpsertAsync(Id(n), LegacyCustomer.Create(Id(n), n));
        }

        return (old, new CountingNewStore<Customer>(await CreateNewStoreAsync()));
    }

    /// <summary>
    /// Builds one service instance over the shared stores: its own container, lock provider and repository, the
    /// suite's mapper (or <paramref name="mapper"/>) and an <c>OnMigrated</c> handler that records into the suite's
    /// events. <paramref name="lockProvider"/> replaces the adapter's lock (a test's broken or counting lock);
    /// <paramref name="builder"/> changes the rest (a test's reverse merger).
    /// </summary>
    private async Task<ServiceProvider> CreateInstanceAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        Action<LazyMigrationOptions>? configure = null,
        CountingMapper? mapper = null,
        IMigrationLockProvider? lockProvider = null,
        Action<ILazyMigrationBuilder<LegacyCustomer, Customer>>? builder = null
    )
    {
        mapper ??= _mapper;
        var services = new ServiceCollection();
        var migration = services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
                o.LockTimeout = Patience;
                configure?.Invoke(o);
            })
            .UseMapper(mapper)
            .UseReverseMapper(mapper)
            .UseOldStore(old)
            .UseNewStore(neu)
            .OnMigrated(
                (migrated, _) =>
                {
                    _events.Enqueue(migrated);
                    return ValueTask.CompletedTask;
                }
            );
        if (lockProvider is not null)
        {
            migration.UseLock(lockProvider);
        }
        else if (LockInNewStore)
        {
            migration.UseNewStoreLock();
        }
        else
        {
            migration.UseLock(await CreateLockProviderAsync());
        }

        builder?.Invoke(migration);
        ServiceProvider instance = services.BuildServiceProvider();
        _dispatchers.Add(instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>());
        return instance;
    }

    /// <summary>Waits until every instance's dispatcher delivered the events recorded so far.</summary>
    private async Task DrainEventsAsync()
    {
        foreach (IMigrationDispatcher<LegacyCustomer, Customer> dispatcher in _dispatchers)
        {
            await dispatcher.DrainAsync();
        }
    }

    /// <summary>
    /// What <see cref="RunLockContentionAsync"/> saw: whether the second instance found the lock held, the mapper
    /// calls, inserts and events of the id, and the version each instance read (-1: none).
    /// </summary>
    protected sealed record LockContention(
        CountingNewStore<Customer> Store,
        bool SecondFoundTheLockHeld,
        int MapCalls,
        int Inserted,
        int Events,
        int[] Versions
    );
}
