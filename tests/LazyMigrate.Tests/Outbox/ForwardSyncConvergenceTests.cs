using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Many rounds of writes through both APIs to a few ids, from two instances, with the dispatchers draining between
/// rounds in either order: at the end of every round both stores agree entity by entity, on the write made last to each
/// id (invariants 4 and 9 together).
/// </summary>
public sealed class ForwardSyncConvergenceTests
{
    private const int Ids = 6;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task WritesThroughBothApis_FromTwoInstances_EveryRoundEndsOnTheLastWriteInBothStores(int seed)
    {
        var scenario = new ForwardSyncScenario();
        string[] ids = [.. Enumerable.Range(0, Ids).Select(MigrationHarness.Id)];
        await using MigrationHarness first = await scenario.MigratedAsync(ids: ids);
        await using MigrationHarness second = scenario.Create();
        MigrationHarness[] instances = [first, second];
        var random = new Random(seed);
        var last = new Dictionary<string, OldCustomer?>(StringComparer.Ordinal);

        for (int round = 0; round < 40; round++)
        {
            for (int write = 0; write < 8; write++)
            {
                string id = ids[random.Next(Ids)];
                MigrationHarness instance = instances[random.Next(2)];
                last[id] = await WriteAsync(scenario, instance, id, random.Next(4), $"{round}.{write}");
            }

            foreach (MigrationHarness instance in random.Next(2) == 0 ? instances : instances.Reverse())
            {
                await instance.DrainAsync();
            }

            foreach (var (id, expected) in last)
            {
                OldCustomer? old = scenario.Shared.Old.Peek(id);
                NewCustomer? current = await first.Repository.GetAsync(id);
                Assert.True(
                    Equals(expected, old) && Equals(expected is null ? null : first.Mapper.Map(expected), current),
                    $"seed {seed}, round {round}, {id}: last write {expected}, old store {old}, new API {current}"
                );
            }
        }

        Assert.Empty(scenario.Outbox.Snapshot());
    }

    /// <summary>One write of <paramref name="id"/>; returns the old record it leaves (null: deleted).</summary>
    private static async Task<OldCustomer?> WriteAsync(
        ForwardSyncScenario scenario,
        MigrationHarness instance,
        string id,
        int kind,
        string tag
    )
    {
        var record = new OldCustomer($"First {tag}", $"{id}.{tag}@example.com");
        IOldStoreChangeRecorder<OldCustomer, NewCustomer> oldApi = ForwardSyncScenario.Recorder(instance);
        switch (kind)
        {
            case 0: // through the new API
                await instance.Repository.SaveAsync(id, instance.Mapper.Map(record));
                return record;
            case 1:
                await instance.Repository.DeleteAsync(id);
                return null;
            case 2: // through the old API, then the one call that records it
                scenario.Shared.Old.Seed(id, record);
                await oldApi.RecordChangeAsync(id);
                return record;
            default:
                await scenario.Shared.Old.DeleteAsync(id);
                await oldApi.RecordChangeAsync(id);
                return null;
        }
    }
}
