using LazyMigrate.Backfill;
using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Conformance;

namespace LazyMigrate.Tests.Conformance;

public sealed class InMemoryBackfillCheckpointStoreConformanceTests : BackfillCheckpointStoreConformanceTests
{
    protected override Task<IBackfillCheckpointStore> CreateStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(new InMemoryBackfillCheckpointStore());
}
