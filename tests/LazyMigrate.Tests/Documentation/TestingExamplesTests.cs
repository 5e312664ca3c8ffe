using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The examples of docs/testing.md, verbatim; <see cref="DocumentationCoverageTests"/> checks that they stay so.
/// </summary>
public sealed class TestingExamplesTests
{
    [Fact]
    public async Task InMemoryAdapters_CountWhatHappened()
    {
        var old = new InMemoryOldStore<LegacyCustomer>();
        var neu = new InMemoryNewStore<Customer>();
        var locks = new InMemoryMigrationLockProvider();

        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseInMemoryOldStore(old)
            .UseInMemoryNewStore(neu)
            .UseInMemoryLock(locks);

        old.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));
        var customers = services
            .BuildServiceProvider()
            .GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        Customer? customer = await customers.GetAsync("c1");

        Assert.Equal(1, old.ReadCount); // migrated: one old-store read
        Assert.Equal(1, neu.InsertCount); // one insert
        Assert.Equal(NewStoreState.Found, neu.Peek("c1").State);
        Assert.Equal(1, locks.AcquireCount);

        await customers.GetAsync("c1");
        Assert.Equal(1, old.ReadCount); // the second read is served by the new store

        Assert.NotNull(customer);
    }

    private static IMigratingRepository<LegacyCustomer, Customer> Instance(
        IOldStore<LegacyCustomer> old,
        InMemoryNewStore<Customer> neu,
        InMemoryMigrationLockProvider locks
    )
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseOldStore(old)
            .UseInMemoryNewStore(neu)
            .UseInMemoryLock(locks);
        return services.BuildServiceProvider().GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
    }

    private sealed class GatedOldStore<T>(IOldStore<T> inner) : IOldStore<T>
        where T : class
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // A migration of one id reads with FindAsync, a batch of several ids with one FindManyAsync: pause both.
        public async ValueTask<T?> FindAsync(string id, CancellationToken cancellationToken = default)
        {
            T? found = await inner.FindAsync(id, cancellationToken);
            await PauseAsync(cancellationToken);
            return found;
        }

        public async ValueTask<IReadOnlyDictionary<string, T>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        )
        {
            var found = await inner.FindManyAsync(ids, cancellationToken);
            await PauseAsync(cancellationToken);
            return found;
        }

        public IAsyncEnumerable<KeyValuePair<string, T>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => inner.ScanAsync(afterId, cancellationToken);

        public ValueTask UpsertAsync(string id, T entity, CancellationToken cancellationToken = default) =>
            inner.UpsertAsync(id, entity, cancellationToken);

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(id, cancellationToken);

        private async Task PauseAsync(CancellationToken cancellationToken)
        {
            Reached.TrySetResult();
            await Gate.Task.WaitAsync(cancellationToken);
        }
    }

    [Fact]
    public async Task LockLostMidMigration_StillOneRow()
    {
        var old = new InMemoryOldStore<LegacyCustomer>().Seed(
            "c1",
            new LegacyCustomer("Ada Lovelace", "(555) 010-0001")
        );
        var neu = new InMemoryNewStore<Customer>();
        var locks = new InMemoryMigrationLockProvider();
        var gated = new GatedOldStore<LegacyCustomer>(old);
        var first = Instance(gated, neu, locks);
        var second = Instance(old, neu, locks);

        Task<Customer?> firstRead = first.GetAsync("c1").AsTask();
        await gated.Reached.Task; // first holds the lock, paused after its old read
        Assert.True(locks.Expire(MigrationLockKeys.For("LegacyCustomer->Customer", "c1")));
        Customer? fromSecond = await second.GetAsync("c1"); // second takes the freed lock and migrates
        gated.Gate.SetResult();

        Assert.Equal(fromSecond, await firstRead); // first's insert lost: it returns what the store holds
        Assert.Equal(1, neu.InsertCount); // one row (and one EntityMigrated)
    }

    [Fact]
    public async Task FakeTimeProvider_DrivesTheNegativeCache()
    {
        var old = new InMemoryOldStore<LegacyCustomer>();
        var services = new ServiceCollection();

        var time = new FakeTimeProvider();
        services.AddSingleton<TimeProvider>(time);
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.RetryDelay = TimeSpan.Zero)
            .UseNegativeCache(TimeSpan.FromSeconds(30))
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(old)
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        var customers = services
            .BuildServiceProvider()
            .GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        Assert.Null(await customers.GetAsync("c1")); // in neither store: remembered as absent
        old.Seed("c1", new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));
        Assert.Null(await customers.GetAsync("c1")); // still remembered: the old store is not read
        time.Advance(TimeSpan.FromSeconds(31)); // an id remembered as absent is looked up again
        Assert.NotNull(await customers.GetAsync("c1"));
    }
}
