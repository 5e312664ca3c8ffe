using System.Collections.Concurrent;
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

    /// <summary>The mapper every instance shares unless a test gives its own: it counts mapper calls by id.</summary>
    private readonly CountingMapper _mapper = new();

    protected abstract Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync();

    protected abstract Task<INewStore<Customer>> CreateNewStoreAsync();

    /// <summary>Creates another instance's lock provider over the shared backend.</summary>
    protected abstract Task<IMigrationLockProvider> CreateLockProviderAsync();

    /// <summary>Makes the backend lose the lock held under <paramref name="key"/>.</summary>
    protected abstract Task LoseLockAsync(string key);

    /// <summary>
    /// Gets whether the new store takes the locks itself (<c>UseNewStoreLock</c>) instead of the lock provider. Its
    /// insert then runs on the lock's own connection, so a migration whose lock was lost fails loudly instead of
    /// returning the winner's value: still one row and one event.
    /// </summary>
    protected virtual bool LockInNewStore => false;

    protected static string Id(int n) => $"customer-{n:D4}";

    [Fact]
    public async Task FourInstances_64ConcurrentReaders_200Ids_EachIdInsertedAndAnnouncedOnce()
    {
        const int Ids = 200;
        var (old, counting) = await CreateStoresAsync(Ids);
        var instances = new List<ServiceProvider>();
        for (int i = 0; i < 4; i++)
        {
            instances.Add(await CreateInstanceAsync(old, counting));
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
            Assert.Equal(Ids, counting.InsertedCount);
            Assert.Equal(Ids, _events.Count);
            Assert.Equal(Ids, _events.Select(e => e.EntityId).Distinct().Count());
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
    public async Task MigrationPausedAfterItsOldRead_NeverOverwritesAConcurrentSave()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var gated = new GatedOldStore<LegacyCustomer>(old);
        await using var pausing = await CreateInstanceAsync(gated, counting);
        await using var writer = await CreateInstanceAsync(old, counting);
        var saved = Customer.Create(Id(0), 42);

        Task<Customer?> migrating = Repository(pausing).GetAsync(Id(0)).AsTask();
        await gated.Read.WaitAsync(Patience);
        await Repository(writer).SaveAsync(Id(0), saved);
        gated.Release();

        Assert.Equal(42, (await migrating)!.Version);
        Assert.Equal(42, (await Repository(writer).GetAsync(Id(0)))!.Version);
        Assert.Equal(0, counting.InsertedCount);
        Assert.Empty(_events);
    }

    [Fact]
    public async Task MigrationPausedAfterItsOldRead_NeverResurrectsAConcurrentDelete()
    {
        var (old, counting) = await CreateStoresAsync(1);
        var gated = new GatedOldStore<LegacyCustomer>(old);
        await using var pausing = await CreateInstanceAsync(gated, counting);
        await using var writer = await CreateInstanceAsync(old, counting);

        Task<Customer?> migrating = Repository(pausing).GetAsync(Id(0)).AsTask();
        await gated.Read.WaitAsync(Patience);
        await Repository(writer).DeleteAsync(Id(0));
        gated.Release();

        Assert.Null(await migrating);
        Assert.Null(await Repository(writer).GetAsync(Id(0)));
        Assert.Equal(MigrationOutcome.Deleted, await Repository(pausing).MigrateAsync(Id(0)));
        Assert.Empty(_events);
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
        var gated = new GatedOldStore<LegacyCustomer>(old);
        await using var first = await CreateInstanceAsync(gated, counting);
        await using var second = await CreateInstanceAsync(old, counting);

        Task<Customer?> firstRead = Repository(first).GetAsync(Id(0)).AsTask();
        await gated.Read.WaitAsync(Patience);
        await LoseLockAsync(MigrationLockKeys.For("LegacyCustomer->Customer", Id(0)));
        Customer? secondValue = await Repository(second).GetAsync(Id(0));
        gated.Release();
        Customer? firstValue = null;
        try
        {
            firstValue = await firstRead;
        }
        catch (MigrationStoreException) when (LockInNewStore)
        {
            // The loser's connection died with its lock: a typed error, nothing written.
        }

        Assert.Equal(0, secondValue!.Version);
        Assert.True(LockInNewStore || firstValue is not null);
        Assert.Equal(0, firstValue?.Version ?? 0);
        Assert.Equal(1, counting.InsertedCount);
        Assert.Single(_events);
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
    /// events. <paramref name="lockProvider"/> replaces the adapter's lock (a test's broken or counting lock).
    /// </summary>
    private async Task<ServiceProvider> CreateInstanceAsync(
        IOldStore<LegacyCustomer> old,
        INewStore<Customer> neu,
        Action<LazyMigrationOptions>? configure = null,
        CountingMapper? mapper = null,
        IMigrationLockProvider? lockProvider = null
    )
    {
        mapper ??= _mapper;
        var services = new ServiceCollection();
        var builder = services
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
            builder.UseLock(lockProvider);
        }
        else if (LockInNewStore)
        {
            builder.UseNewStoreLock();
        }
        else
        {
            builder.UseLock(await CreateLockProviderAsync());
        }

        return services.BuildServiceProvider();
    }
}
