namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="IOldStore{TOld}"/> must do. An adapter derives from it and supplies a fresh, empty store per
/// test.
/// </summary>
public abstract class OldStoreConformanceTests<TEntity> : IConformanceEntities<TEntity>
    where TEntity : class
{
    protected abstract Task<IOldStore<TEntity>> CreateStoreAsync();

    public abstract TEntity Create(string id, int version);

    public abstract int VersionOf(TEntity entity);

    /// <summary>Gets the ids the suite uses and the store's order of them.</summary>
    /// <value>The default is <see cref="ConformanceIds.Ordinal"/>; override it for numeric or UUID keys.</value>
    protected virtual ConformanceIds Ids => ConformanceIds.Ordinal;

    private string A => Ids.Id(1);

    private string B => Ids.Id(2);

    private string C => Ids.Id(3);

    [Fact]
    public async Task Find_UnknownId_IsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.FindAsync(Ids.Id(99)));
    }

    [Fact]
    public async Task Upsert_ThenFind_ReturnsTheLatestValue()
    {
        var store = await CreateStoreAsync();

        await store.UpsertAsync(A, Create(A, 1));
        await store.UpsertAsync(A, Create(A, 2));

        Assert.Equal(2, VersionOf((await store.FindAsync(A))!));
    }

    [Fact]
    public async Task Delete_RemovesTheEntity_AndIsANoOpForAnUnknownId()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync(A, Create(A, 1));

        await store.DeleteAsync(A);
        await store.DeleteAsync(Ids.Id(98));

        Assert.Null(await store.FindAsync(A));
    }

    [Fact]
    public async Task FindMany_LeavesOutUnknownIds()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync(A, Create(A, 1));
        await store.UpsertAsync(B, Create(B, 2));

        IReadOnlyDictionary<string, TEntity> found = await store.FindManyAsync([A, B, C]);

        Assert.Equal([A, B], found.Keys.Order(Ids.Order));
        Assert.Equal(2, VersionOf(found[B]));
    }

    [Fact]
    public async Task Scan_YieldsEveryEntityInTheStoresIdOrder()
    {
        var store = await SeededAsync(Ids.Mixed);

        List<string> scanned = await ScanIdsAsync(store, afterId: null);

        Assert.Equal(Ids.Mixed.Order(Ids.Order), scanned);
    }

    [Fact]
    public async Task Scan_FromACursor_ResumesStrictlyAfterIt()
    {
        var store = await SeededAsync(Ids.Mixed);
        string[] ordered = Ids.Mixed.Order(Ids.Order).ToArray();

        List<string> rest = await ScanIdsAsync(store, afterId: ordered[3]);

        Assert.Equal(ordered[4..], rest);
    }

    [Fact]
    public async Task Scan_PastTheLastIdOrOfAnEmptyStore_YieldsNothing()
    {
        var empty = await CreateStoreAsync();
        var store = await SeededAsync([A, B]);

        Assert.Empty(await ScanIdsAsync(empty, afterId: null));
        Assert.Empty(await ScanIdsAsync(store, afterId: B));
    }

    [Fact]
    public async Task Scan_ManyEntities_YieldsEachOnceInOrder()
    {
        string[] ids = Enumerable.Range(0, 1_200).Select(Ids.Id).ToArray();
        var store = await SeededAsync(ids);

        List<string> scanned = await ScanIdsAsync(store, afterId: null);

        Assert.Equal(ids, scanned);
    }

    [Fact]
    public async Task Scan_WithACanceledToken_ThrowsOperationCanceled_GivenToScanOrToItsEnumerator()
    {
        var store = await SeededAsync([A, B]);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in store.ScanAsync(null, canceled.Token)) { }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in store.ScanAsync(null).WithCancellation(canceled.Token)) { }
        });
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
