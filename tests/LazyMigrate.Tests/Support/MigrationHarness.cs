using System.Collections.Concurrent;
using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// One service instance as a user would build it: its own DI container over stores and a lock that several harnesses
/// may share, standing in for several instances of a service.
/// </summary>
public sealed class MigrationHarness : IAsyncDisposable
{
    private MigrationHarness(
        ServiceProvider services,
        SharedStores shared,
        CustomerMapper mapper,
        ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>> events
    )
    {
        Services = services;
        Shared = shared;
        Mapper = mapper;
        Events = events;
        Repository = services.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>();
        shared.Dispatchers.Add(Dispatcher);
    }

    /// <summary>The default name of the customer migration, derived from the two type names.</summary>
    public const string MigrationName = "OldCustomer->NewCustomer";

    public ServiceProvider Services { get; }

    public SharedStores Shared { get; }

    public InMemoryOldStore<OldCustomer> Old => Shared.Old;

    public InMemoryNewStore<NewCustomer> New => Shared.New;

    public CustomerMapper Mapper { get; }

    public ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>> Events { get; }

    public IMigratingRepository<OldCustomer, NewCustomer> Repository { get; }

    public IBackfillRunner<OldCustomer, NewCustomer> Backfill =>
        Services.GetRequiredService<IBackfillRunner<OldCustomer, NewCustomer>>();

    public IMigrationDispatcher<OldCustomer, NewCustomer> Dispatcher =>
        Services.GetRequiredService<IMigrationDispatcher<OldCustomer, NewCustomer>>();

    /// <summary>Waits until the dispatcher delivered every event and write-back recorded so far.</summary>
    public async Task DrainAsync() => await Dispatcher.DrainAsync();

    public static MigrationHarness Create(
        SharedStores? shared = null,
        Action<LazyMigrationOptions>? options = null,
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null
    )
    {
        shared ??= new SharedStores();
        var mapper = new CustomerMapper();
        var events = new ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>>();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(shared.Time);
        var builder = services
            .AddLazyMigration<OldCustomer, NewCustomer>(o =>
            {
                o.RetryDelay = TimeSpan.Zero;
                options?.Invoke(o);
            })
            .UseMapper(mapper)
            .UseReverseMapper(mapper)
            .UseInMemoryOldStore(shared.Old)
            .UseInMemoryNewStore(shared.New)
            .UseInMemoryLock(shared.Lock)
            .UseBackfillCheckpointStore(shared.Checkpoints)
            .OnMigrated(
                (e, _) =>
                {
                    events.Enqueue(e);
                    shared.AllEvents.Enqueue(e);
                    return ValueTask.CompletedTask;
                }
            );
        configure?.Invoke(builder);
        return new MigrationHarness(services.BuildServiceProvider(validateScopes: true), shared, mapper, events);
    }

    /// <summary>
    /// Creates an instance whose old-store reads pause until the test releases <paramref name="gated"/>.
    /// </summary>
    public static MigrationHarness CreatePausingOldReads(
        SharedStores shared,
        out GatedOldStore<OldCustomer> gated,
        Action<LazyMigrationOptions>? options = null
    )
    {
        var pausing = new GatedOldStore<OldCustomer>(shared.Old);
        gated = pausing;
        return Create(shared, options, b => b.UseOldStore(pausing));
    }

    public static OldCustomer Legacy(int n) => new($"First{n} Last{n}", $"c{n}@example.com");

    public static NewCustomer Mapped(int n) => new($"First{n}", $"Last{n}", $"c{n}@example.com");

    public MigrationHarness SeedLegacy(int count)
    {
        for (int n = 0; n < count; n++)
        {
            Old.Seed(Id(n), Legacy(n));
        }

        return this;
    }

    public static string LockKey(string id) => MigrationLockKeys.For(MigrationName, id);

    public static string Id(int n) => $"customer-{n:D5}";

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

/// <summary>The stores, lock and clock that several service instances share.</summary>
public sealed class SharedStores
{
    public InMemoryOldStore<OldCustomer> Old { get; } = new();

    public InMemoryNewStore<NewCustomer> New { get; } = new();

    public InMemoryMigrationLockProvider Lock { get; } = new();

    public InMemoryBackfillCheckpointStore Checkpoints { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));

    public ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>> AllEvents { get; } = new();

    /// <summary>Gets the dispatchers of every instance over these stores.</summary>
    public ConcurrentBag<IMigrationDispatcher<OldCustomer, NewCustomer>> Dispatchers { get; } = [];

    /// <summary>Waits until every instance's dispatcher delivered what was recorded so far.</summary>
    public async Task DrainAsync()
    {
        foreach (IMigrationDispatcher<OldCustomer, NewCustomer> dispatcher in Dispatchers)
        {
            await dispatcher.DrainAsync();
        }
    }
}
