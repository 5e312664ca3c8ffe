namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="INewStore{TNew}"/> must do. An adapter's test project derives from it and supplies a fresh,
/// empty store per test.
/// </summary>
public abstract class NewStoreConformanceTests<TEntity> : IConformanceEntities<TEntity>
    where TEntity : class
{
    protected abstract Task<INewStore<TEntity>> CreateStoreAsync();

    public abstract TEntity Create(string id, int version);

    public abstract int VersionOf(TEntity entity);

    [Fact]
    public async Task Find_UnknownId_IsMissing()
    {
        var store = await CreateStoreAsync();

        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("unknown")).State);
    }

    [Fact]
    public async Task InsertIfAbsent_IntoAGap_InsertsAndIsFound()
    {
        var store = await CreateStoreAsync();

        Assert.True(await store.InsertIfAbsentAsync("a", Create("a", 1)));

        NewStoreRead<TEntity> read = await store.FindAsync("a");
        Assert.Equal(NewStoreState.Found, read.State);
        Assert.Equal(1, VersionOf(read.Value!));
    }

    [Fact]
    public async Task InsertIfAbsent_OverAValue_NeverOverwrites()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));

        Assert.False(await store.InsertIfAbsentAsync("a", Create("a", 2)));

        Assert.Equal(1, VersionOf((await store.FindAsync("a")).Value!));
    }

    [Fact]
    public async Task InsertIfAbsent_OverATombstone_NeverResurrects()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));
        await store.DeleteAsync("a");

        Assert.False(await store.InsertIfAbsentAsync("a", Create("a", 2)));

        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("a")).State);
    }

    [Fact]
    public async Task Delete_OfAnUnknownId_StillLeavesATombstone()
    {
        var store = await CreateStoreAsync();

        await store.DeleteAsync("never-seen");

        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("never-seen")).State);
        Assert.False(await store.InsertIfAbsentAsync("never-seen", Create("never-seen", 1)));
    }

    [Fact]
    public async Task Upsert_ReplacesAValueAndATombstone()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));
        await store.UpsertAsync("a", Create("a", 2));
        await store.UpsertAsync("b", Create("b", 1));
        await store.DeleteAsync("b");
        await store.UpsertAsync("b", Create("b", 3));

        Assert.Equal(2, VersionOf((await store.FindAsync("a")).Value!));
        Assert.Equal(3, VersionOf((await store.FindAsync("b")).Value!));
    }

    [Fact]
    public async Task FindMany_ReturnsValuesAndTombstones_LeavesOutMissing()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("a", Create("a", 1));
        await store.UpsertAsync("b", Create("b", 2));
        await store.DeleteAsync("c");

        IReadOnlyDictionary<string, NewStoreRead<TEntity>> found = await store.FindManyAsync(["a", "b", "c", "d"]);

        Assert.Equal(["a", "b", "c"], found.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, VersionOf(found["b"].Value!));
        Assert.Equal(NewStoreState.Deleted, found["c"].State);
    }

    [Fact]
    public async Task InsertManyIfAbsent_ReportsExactlyTheIdsItInserted()
    {
        var store = await CreateStoreAsync();
        await store.UpsertAsync("taken", Create("taken", 1));
        await store.DeleteAsync("deleted");

        IReadOnlyCollection<string> inserted = await store.InsertManyIfAbsentAsync([
            new("new-1", Create("new-1", 5)),
            new("taken", Create("taken", 5)),
            new("deleted", Create("deleted", 5)),
            new("new-2", Create("new-2", 5)),
        ]);

        Assert.Equal(["new-1", "new-2"], inserted.Order(StringComparer.Ordinal));
        Assert.Equal(1, VersionOf((await store.FindAsync("taken")).Value!));
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("deleted")).State);
        Assert.Equal(5, VersionOf((await store.FindAsync("new-2")).Value!));
    }

    [Fact]
    public async Task InsertIfAbsent_RacedOnOneId_ExactlyOneWins()
    {
        var store = await CreateStoreAsync();

        bool[] wins = await StartingGate.RunAsync(
            16,
            async i => await store.InsertIfAbsentAsync("contested", Create("contested", i))
        );

        Assert.Equal(1, wins.Count(w => w));
        int winner = Array.IndexOf(wins, true);
        Assert.Equal(winner, VersionOf((await store.FindAsync("contested")).Value!));
    }

    [Fact]
    public async Task InsertManyIfAbsent_RacedOnTheSameIds_EachIdInsertedOnce()
    {
        var store = await CreateStoreAsync();
        string[] ids = Enumerable.Range(0, 20).Select(i => $"id-{i:D2}").ToArray();

        IReadOnlyCollection<string>[] inserted = await StartingGate.RunAsync(
            4,
            async i =>
                await store.InsertManyIfAbsentAsync(
                    ids.Select(id => new KeyValuePair<string, TEntity>(id, Create(id, i))).ToArray()
                )
        );

        Assert.Equal(ids, inserted.SelectMany(x => x).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task InsertIfAbsent_RacingADelete_AlwaysEndsDeleted()
    {
        var store = await CreateStoreAsync();
        string[] ids = Enumerable.Range(0, 20).Select(i => $"race-{i:D2}").ToArray();

        // Whichever lands first, a delete must win: insert then delete leaves a tombstone, and delete then insert must
        // find the tombstone and insert nothing.
        await StartingGate.RunAsync(
            ids.Length * 2,
            async i =>
            {
                string id = ids[i / 2];
                if (i % 2 == 0)
                {
                    await store.InsertIfAbsentAsync(id, Create(id, 1));
                }
                else
                {
                    await store.DeleteAsync(id);
                }

                return 0;
            }
        );

        IReadOnlyDictionary<string, NewStoreRead<TEntity>> found = await store.FindManyAsync(ids);
        Assert.All(ids, id => Assert.Equal(NewStoreState.Deleted, found[id].State));
    }

    [Fact]
    public async Task Find_WithACancelledToken_Throws()
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await store.FindAsync("a", new CancellationToken(canceled: true))
        );
    }
}
