using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static LazyMigrate.Tests.Outbox.AsyncWriteBack;
using Eventually = LazyMigrate.TestKit.Eventually;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// <c>AddLazyMigrationDispatcher</c> in a real host: its background service applies <see cref="WriteBackMode.Async"/>
/// write-backs with no drain called, and stops with the host, cleanly.
/// </summary>
public sealed class HostedDispatcherTests
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly SharedStores _shared = new();
    private readonly InMemoryOutbox _outbox = new();

    private IHost Build(bool withDispatcher)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<TimeProvider>(_shared.Time);
        builder
            .Services.AddLazyMigration<OldCustomer, NewCustomer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseInMemoryOldStore(_shared.Old)
            .UseInMemoryNewStore(_shared.New)
            .UseInMemoryLock(_shared.Lock)
            .UseInMemoryOutbox(_outbox)
            .ConfigureOutbox(o =>
            {
                // Only the hosted loop applies anything: a write does not drain in the background.
                o.DispatchOnWrite = false;
                o.PollInterval = PollInterval;
            });
        if (withDispatcher)
        {
            builder.Services.AddLazyMigrationDispatcher();
        }

        return builder.Build();
    }

    private static IMigratingRepository<OldCustomer, NewCustomer> RepositoryOf(IHost host) =>
        host.Services.GetRequiredService<IMigratingRepository<OldCustomer, NewCustomer>>();

    [Fact]
    public async Task TheHostedDispatcher_AppliesAsyncWriteBacks_WithNoDrainCalled_AndStopsCleanlyWithTheHost()
    {
        using IHost host = Build(withDispatcher: true);
        string id = MigrationHarness.Id(0);
        await RepositoryOf(host).SaveAsync(id, Revision(0, 1));

        await host.StartAsync();
        await Eventually.TrueAsync(
            () => Equals(_shared.Old.Peek(id), RevisionInOldStore(0, 1)),
            what: "the write-back applied by the hosted dispatcher"
        );

        // A write after the first drain is found at the next poll.
        string later = MigrationHarness.Id(1);
        await RepositoryOf(host).SaveAsync(later, Revision(1, 1));
        await Eventually.TrueAsync(
            () =>
            {
                _shared.Time.Advance(PollInterval);
                return Equals(_shared.Old.Peek(later), RevisionInOldStore(1, 1));
            },
            what: "the later write-back applied at a poll"
        );

        await host.StopAsync();
        BackgroundService service = Assert.Single(
            host.Services.GetServices<IHostedService>().OfType<BackgroundService>()
        );
        Assert.True(service.ExecuteTask!.IsCompletedSuccessfully, $"the loop ended {service.ExecuteTask.Status}");

        // Stopped: nothing applies the writes made now, however long the fake clock runs.
        string afterStop = MigrationHarness.Id(2);
        await RepositoryOf(host).SaveAsync(afterStop, Revision(2, 1));
        _shared.Time.Advance(PollInterval * 100);
        Assert.Null(_shared.Old.Peek(afterStop));
        Assert.NotNull(WriteBackOf(_outbox, afterStop));

        var records = host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);
        Assert.DoesNotContain(records, r => r.Exception is not null);
    }

    [Fact]
    public async Task WithoutTheHostedDispatcher_NothingAppliesAsyncWriteBacks_UntilADrain()
    {
        using IHost host = Build(withDispatcher: false);
        string id = MigrationHarness.Id(0);
        await host.StartAsync();
        await RepositoryOf(host).SaveAsync(id, Revision(0, 1));
        _shared.Time.Advance(PollInterval * 100);

        Assert.Empty(host.Services.GetServices<IHostedService>().OfType<BackgroundService>());
        Assert.Null(_shared.Old.Peek(id));

        await host.Services.GetRequiredService<IMigrationDispatcher<OldCustomer, NewCustomer>>().DrainAsync();
        Assert.Equal(RevisionInOldStore(0, 1), _shared.Old.Peek(id));
        await host.StopAsync();
    }
}
