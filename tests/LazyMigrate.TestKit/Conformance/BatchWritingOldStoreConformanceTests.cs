namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What an old store that writes in batches (<see cref="IBatchWritingOldStore{TOld}"/>) must do, beside everything
/// <see cref="OldStoreConformanceTests{TEntity}"/> asks of any old store.
/// </summary>
public abstract class BatchWritingOldStoreConformanceTests<TEntity> : OldStoreConformanceTests<TEntity>
    where TEntity : class
{
    /// <summary>Creates a fresh, empty store.</summary>
    protected abstract Task<IBatchWritingOldStore<TEntity>> CreateBatchStoreAsync();

    protected sealed override async Task<IOldStore<TEntity>> CreateStoreAsync() => await CreateBatchStoreAsync();

    private string Id(int n) => Ids.Id(n);

    [Fact]
    public async Task UpsertMany_InsertsTheNewAndReplacesTheExisting_AndLeavesTheOthers()
    {
        var store = await CreateBatchStoreAsync();
        await store.UpsertAsync(Id(1), Create(Id(1), 1));
        await store.UpsertAsync(Id(3), Create(Id(3), 3));

        await store.UpsertManyAsync([new(Id(1), Create(Id(1), 10)), new(Id(2), Create(Id(2), 20))]);

        IReadOnlyDictionary<string, TEntity> found = await store.FindManyAsync([Id(1), Id(2), Id(3)]);
        Assert.Equal([10, 20, 3], found.OrderBy(f => f.Key, Ids.Order).Select(f => VersionOf(f.Value)));
    }

    [Fact]
    public async Task DeleteMany_RemovesThosePresent_AndIgnoresUnknownIds()
    {
        var store = await CreateBatchStoreAsync();
        await store.UpsertManyAsync([new(Id(1), Create(Id(1), 1)), new(Id(2), Create(Id(2), 2))]);

        await store.DeleteManyAsync([Id(1), Id(97)]);

        Assert.Equal([Id(2)], (await store.FindManyAsync([Id(1), Id(2), Id(97)])).Keys);
    }

    [Fact]
    public async Task EmptyBatches_ChangeNothing()
    {
        var store = await CreateBatchStoreAsync();
        await store.UpsertAsync(Id(1), Create(Id(1), 1));

        await store.UpsertManyAsync([]);
        await store.DeleteManyAsync([]);

        Assert.Equal(1, VersionOf((await store.FindAsync(Id(1)))!));
    }

    [Fact]
    public async Task ABatchOfAHundred_WritesThemAll_AndDeletesThemAll()
    {
        var store = await CreateBatchStoreAsync();
        string[] ids = [.. Enumerable.Range(1, 100).Select(Id)];

        await store.UpsertManyAsync([.. ids.Select(id => new KeyValuePair<string, TEntity>(id, Create(id, 7)))]);
        IReadOnlyDictionary<string, TEntity> written = await store.FindManyAsync(ids);
        await store.DeleteManyAsync(ids);

        Assert.Equal(100, written.Count);
        Assert.All(written.Values, e => Assert.Equal(7, VersionOf(e)));
        Assert.Empty(await store.FindManyAsync(ids));
    }
}
