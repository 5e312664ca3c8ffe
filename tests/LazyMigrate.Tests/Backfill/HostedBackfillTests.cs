using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Eventually = LazyMigrate.TestKit.Eventually;

namespace LazyMigrate.Tests.Backfill;

/// <summary>
/// <c>AddLazyMigrationBackfill</c> in a real host: its background service runs the backfill to its end, runs it
/// again from its checkpoint after a failure, and stops with the host.
/// </summary>
public sealed class HostedBackfillTests
{
    private readonly SharedStores _shared = new();
    private readonly InMemoryBackfillCheckpointStore _checkpoints = new();
    private readonly LogSignal _log = new();

    private IHost Build(INewStore<NewCustomer> newStore)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(_shared.Time);
        builder.Logging.AddProvider(_log);
        builder
            .Services.AddLazyMigration<OldCustomer, NewCustomer>(o => o.MaxRetryAttempts = 0)
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore(_shared.Old)
            .UseNewStore(newStore)
            .UseInMemoryLock(_shared.Lock)
            .UseBackfillCheckpointStore(_checkpoints)
            .ConfigureBackfill(o =>
            {
                o.InitialBatchSize = 100;
                o.TargetBatchDuration = TimeSpan.Zero;
                o.RetryDelay = TimeSpan.FromMinutes(1);
            });
        builder.Services.AddLazyMigrationBackfill();
        return builder.Build();
    }

    [Fact]
    public async Task TheHostedBackfill_RunsToTheEnd_AgainFromItsCheckpointAfterAFailure_AndStopsWithTheHost()
    {
        for (int n = 0; n < 300; n++)
        {
            _shared.Old.Seed(MigrationHarness.Id(n), MigrationHarness.Legacy(n));
        }

        bool down = true;
        int inserts = 0;
        var newStore = new HookedNewStore<NewCustomer>(_shared.New)
        {
            BeforeInsert = () =>
            {
                if (++inserts == 2 && down)
                {
                    throw new TimeoutException("The new database did not answer.");
                }
            },
        };
        using IHost host = Build(newStore);

        await host.StartAsync();
        await _log.Logged("BackfillFailed");
        BackfillCheckpoint? afterFailure = await _checkpoints.LoadAsync(MigrationHarness.MigrationName);
        down = false;
        _shared.Time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(
            async () => (await _checkpoints.LoadAsync(MigrationHarness.MigrationName))?.IsComplete == true,
            what: "the backfill's end"
        );
        await host.StopAsync();

        Assert.Equal(MigrationHarness.Id(99), afterFailure?.Cursor);
        Assert.Equal(300, _shared.New.Count);
    }
}
