using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Instances of the customer migration with Async write-back and forward sync over shared in-memory stores and outbox,
/// and the old API's writes as legacy code makes them.
/// </summary>
public sealed class ForwardSyncScenario
{
    public static readonly string Id = MigrationHarness.Id(0);

    public SharedStores Shared { get; } = new();

    public InMemoryOutbox Outbox { get; } = new();

    /// <summary>What the old API writes: customer 0 under a new e-mail address.</summary>
    public static OldCustomer LegacyWrite(int revision) => new("First0 Last0", $"c0.v1-{revision}@example.com");

    public static IOldStoreChangeRecorder<OldCustomer, NewCustomer> Recorder(MigrationHarness harness) =>
        harness.Services.GetRequiredService<IOldStoreChangeRecorder<OldCustomer, NewCustomer>>();

    /// <summary>The old API's write as legacy code makes it: the old store first, then the one call that records it.
    /// </summary>
    public async Task WriteThroughOldApiAsync(MigrationHarness harness, OldCustomer record, bool markStale = false)
    {
        Shared.Old.Seed(Id, record);
        if (markStale)
        {
            Shared.New.MarkStale(Id);
        }

        await Recorder(harness).RecordChangeAsync(Id);
    }

    /// <summary>An instance with Async write-back and forward sync over the shared stores and outbox.</summary>
    public MigrationHarness Create(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null,
        Action<OutboxOptions>? outbox = null
    ) =>
        AsyncWriteBack.Create(
            Shared,
            Outbox,
            outbox,
            b =>
            {
                b.Services.AddMetrics();
                configure?.Invoke(b);
            },
            o => o.ForwardSync = true
        );

    /// <summary>An instance whose entities (customer 0 by default) were read once, and so migrated.</summary>
    public async Task<MigrationHarness> MigratedAsync(
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null,
        Action<OutboxOptions>? outbox = null,
        string[]? ids = null
    )
    {
        ids ??= [Id];
        for (int n = 0; n < ids.Length; n++)
        {
            Shared.Old.Seed(ids[n], MigrationHarness.Legacy(n));
        }

        MigrationHarness harness = Create(configure, outbox);
        Assert.Equal(ids.Length, (await harness.Repository.GetManyAsync(ids)).Count);
        await harness.DrainAsync();
        Assert.Empty(Outbox.Snapshot());
        return harness;
    }
}
