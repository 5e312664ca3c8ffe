using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

public sealed class ExecutionContextTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task SharedMigration_DoesNotSeeTheFirstCallersAsyncLocals()
    {
        var seen = new List<string?>();
        var shared = new SharedStores();
        var spying = new SpyingOldStore(shared.Old, seen);
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseOldStore(spying)).SeedLegacy(1);

        Ambient.Value = "caller's ambient transaction";
        NewCustomer? customer = await harness.Repository.GetAsync(MigrationHarness.Id(0));

        Assert.Equal(MigrationHarness.Mapped(0), customer);
        Assert.Equal([null], seen);
        Assert.Equal("caller's ambient transaction", Ambient.Value);
    }

    private sealed class SpyingOldStore(IOldStore<OldCustomer> inner, List<string?> seen) : IOldStore<OldCustomer>
    {
        public ValueTask<OldCustomer?> FindAsync(string id, CancellationToken cancellationToken = default)
        {
            seen.Add(Ambient.Value);
            return inner.FindAsync(id, cancellationToken);
        }

        public ValueTask<IReadOnlyDictionary<string, OldCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        )
        {
            seen.Add(Ambient.Value);
            return inner.FindManyAsync(ids, cancellationToken);
        }

        public IAsyncEnumerable<KeyValuePair<string, OldCustomer>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => inner.ScanAsync(afterId, cancellationToken);

        public ValueTask UpsertAsync(string id, OldCustomer entity, CancellationToken cancellationToken = default) =>
            inner.UpsertAsync(id, entity, cancellationToken);

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(id, cancellationToken);
    }
}
