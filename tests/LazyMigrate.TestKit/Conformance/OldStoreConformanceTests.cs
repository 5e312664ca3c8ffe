namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="IOldStore{TOld}"/> must do. An adapter derives from it and supplies a fresh, empty store per
/// test.
/// </summary>
public abstract class OldStoreConformanceTests<TEntity> : IConformanceEntities<TEntity>
    where TEntity : class
{
    // Ordinal order, not culture order: upper case before lower case, digits before letters, "10" before "9".
    private static readonly string[] MixedIds = ["b", "B", "a1", "a", "Z", "10", "9", "a-b", "a_b"];

    protected abstract Task<IOldStore<TEntity>> CreateStoreAsync();

    public abstract TEntity Create(string id, int version);

    public abstract int VersionOf(TEntity entity);

    [Fact]
    public async Task Find_UnknownId_IsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.FindAsync("unknown"));
    }

    [Fact]
    public async Task Upsert_ThenFind_ReturnsTheLatestValue()
    {
        var store = await CreateStoreAsync();

        await store.UpsertAsync("a", Create("a", 1));
        await store.UpsertAsync("a", Create("a", 2));

        Assert.Equal(2, VersionOf((await store.FindAsync("a"))!));
    }

    [Fact]
    public async Task Delete_RemovesTheEntity_AndIsANoOpForAnUnknownId()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));

        await store.DeleteAsync("a");
        await store.DeleteAsync("never-seen");

        Assert.Null(await store.FindAsync("a"));
    }

    [Fact]
    public async Task FindMany_LeavesOutUnknownIds()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));
        await store.UpsertAsync("b", Create("b", 2));

        IReadOnlyDictionary<string, TEntity> found = await store.FindManyAsync(["a", "b", "c"]);

        Assert.Equal(["a", "b"], found.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, VersionOf(found["b"]));
    }

    [Fact]
    public async Task Scan_YieldsEveryEntityInOrdinalIdOrder()
    {
        var store = await SeededAsync(MixedIds);

        List<string> scanned = await ScanIdsAsync(store, afterId: null);

        Assert.Equal(MixedIds.Order(StringComparer.Ordinal), scanned);
    }

    [Fact]
    public async Task Scan_FromACursor_ResumesStrictlyAfterIt()
    {
        var store = await SeededAsync(MixedIds);
        string[] ordered = MixedIds.Order(StringComparer.Ordinal).ToArray();

        List<string> rest = await ScanIdsAsync(store, afterId: ordered[3]);

        Assert.Equal(ordered[4..], rest);
    }

    [Fact]
    public async Task Scan_PastTheLastIdOrOfAnEmptyStore_YieldsNothing()
    {
        var empty = await CreateStoreAsync();
        var store = await SeededAsync(["a", "b"]);

        Assert.Empty(await ScanIdsAsync(empty, afterId: null));
        Assert.Empty(await ScanIdsAsync(store, afterId: "b"));
    }

    [Fact]
    public async Task Scan_ManyEntities_YieldsEachOnceInOrder()
    {
        string[] ids = Enumerable.Range(0, 1_200).Select(i => $"bulk-{i:D5}").ToArray();
        var store = await SeededAsync(ids);

        List<string> scanned = await ScanIdsAsync(store, afterId: null);

        Assert.Equal(ids, scanned);
    }

    private static async Task<List<string>> ScanIdsAsync(IOldStore<TEntity> store, string? afterId)
    {
        var ids = new List<string>();
        await foreach (var (id, _) in store.ScanAsync(afterId))
        {
            ids.Add(id);
        }

        return ids;
    }

    private async Task<IOldStore<TEntity>> SeededAsync(IEnumerable<string> ids)
    {
        var store = await CreateStoreAsync();
        int version = 0;
        foreach (string id in ids)
        {
            await store.UpsertAsync(id, Create(id, version++));
        }

        return store;
    }
}
