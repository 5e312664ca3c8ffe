using LazyMigrate.Backfill;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// What every <see cref="IBackfillCheckpointStore"/> must do (the rules in its remarks): checkpoints kept whole and
/// never lost, a lease held by one owner at a time until it lapses, saves refused to anyone but the holder, and a
/// quarantine listed in ordinal id order, updated in place and cleared by id. Every test works in a migration of its
/// own, so one database can serve all of them; times are the caller's, in whole milliseconds.
/// </summary>
public abstract class BackfillCheckpointStoreConformanceTests
{
    private static readonly DateTimeOffset T0 = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Creates the store under test (it may hold other tests' migrations, never this test's).</summary>
    protected abstract Task<IBackfillCheckpointStore> CreateStoreAsync();

    /// <summary>
    /// Another instance's store over the same backend, as another service would open it; the default is the same one.
    /// </summary>
    protected virtual Task<IBackfillCheckpointStore> AnotherInstanceAsync(IBackfillCheckpointStore store) =>
        Task.FromResult(store);

    [Fact]
    public async Task Load_BeforeAnySave_IsNull()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();

        Assert.Null(await store.LoadAsync(NewMigration()));
    }

    [Fact]
    public async Task TryAcquire_AFreeLease_IsAcquired_WithNoCheckpoint()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();

        BackfillLeaseResult lease = await store.TryAcquireAsync(NewMigration(), "a", At(0) + Lease, At(0));

        Assert.True(lease.Acquired);
        Assert.Null(lease.Checkpoint);
    }

    [Fact]
    public async Task Save_ByTheHolder_IsLoadedWhole_ByAnotherInstance()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.TryAcquireAsync(migration, "a", At(0) + Lease, At(0));
        BackfillCheckpoint checkpoint = Checkpoint(migration, "id-0042", 42, complete: true);

        bool saved = await store.SaveAsync(checkpoint, "a", At(1) + Lease);
        IBackfillCheckpointStore other = await AnotherInstanceAsync(store);

        Assert.True(saved);
        Assert.Equal(checkpoint, await other.LoadAsync(migration));
        Assert.Equal(checkpoint, (await other.TryAcquireAsync(migration, "a", At(2) + Lease, At(2))).Checkpoint);
    }

    [Fact]
    public async Task TryAcquire_ALeaseAnotherOwnerHolds_IsRefused_NamingTheHolder_UntilItLapses()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        IBackfillCheckpointStore other = await AnotherInstanceAsync(store);
        string migration = NewMigration();
        await store.TryAcquireAsync(migration, "a", At(0) + Lease, At(0));
        await store.SaveAsync(Checkpoint(migration, "id-1", 1), "a", At(10) + Lease);

        BackfillLeaseResult whileHeld = await other.TryAcquireAsync(migration, "b", At(39) + Lease, At(39));
        BackfillLeaseResult afterLapse = await other.TryAcquireAsync(migration, "b", At(41) + Lease, At(41));

        Assert.False(whileHeld.Acquired);
        Assert.Equal("a", whileHeld.Holder);
        Assert.Equal("id-1", whileHeld.Checkpoint?.Cursor);
        Assert.True(afterLapse.Acquired);
        Assert.Equal("id-1", afterLapse.Checkpoint?.Cursor);
    }

    [Fact]
    public async Task TryAcquire_ByTheHolder_RenewsItsLease()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.TryAcquireAsync(migration, "a", At(0) + Lease, At(0));

        BackfillLeaseResult renewed = await store.TryAcquireAsync(migration, "a", At(20) + Lease, At(20));
        BackfillLeaseResult other = await store.TryAcquireAsync(migration, "b", At(45) + Lease, At(45));

        Assert.True(renewed.Acquired);
        Assert.False(other.Acquired);
    }

    [Fact]
    public async Task Save_ByAnOwnerWhoseLeaseWasTaken_IsRefused_AndChangesNothing()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.TryAcquireAsync(migration, "a", At(0) + Lease, At(0));
        await store.SaveAsync(Checkpoint(migration, "id-1", 1), "a", At(1) + Lease);
        await store.TryAcquireAsync(migration, "b", At(60) + Lease, At(60));

        bool saved = await store.SaveAsync(Checkpoint(migration, "id-9", 9), "a", At(61) + Lease);

        Assert.False(saved);
        Assert.Equal("id-1", (await store.LoadAsync(migration))?.Cursor);
    }

    [Fact]
    public async Task Save_WithoutEverTakingTheLease_IsRefused()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();

        Assert.False(await store.SaveAsync(Checkpoint(migration, "id-1", 1), "a", At(1) + Lease));
        Assert.Null(await store.LoadAsync(migration));
    }

    [Fact]
    public async Task Release_LetsAnotherOwnerTakeTheLeaseAtOnce_AndKeepsTheCheckpoint()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.TryAcquireAsync(migration, "a", At(0) + Lease, At(0));
        await store.SaveAsync(Checkpoint(migration, "id-5", 5), "a", At(1) + Lease);

        await store.ReleaseAsync(migration, "b");
        BackfillLeaseResult notYet = await store.TryAcquireAsync(migration, "b", At(2) + Lease, At(2));
        await store.ReleaseAsync(migration, "a");
        BackfillLeaseResult taken = await store.TryAcquireAsync(migration, "b", At(3) + Lease, At(3));

        Assert.False(notYet.Acquired);
        Assert.True(taken.Acquired);
        Assert.Equal("id-5", taken.Checkpoint?.Cursor);
        Assert.False(await store.SaveAsync(Checkpoint(migration, "id-6", 6), "a", At(4) + Lease));
    }

    [Fact]
    public async Task Leases_OfTwoMigrations_AreApart()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string first = NewMigration();
        string second = NewMigration();
        await store.TryAcquireAsync(first, "a", At(0) + Lease, At(0));
        await store.SaveAsync(Checkpoint(first, "id-1", 1), "a", At(0) + Lease);

        BackfillLeaseResult other = await store.TryAcquireAsync(second, "b", At(1) + Lease, At(1));

        Assert.True(other.Acquired);
        Assert.Null(other.Checkpoint);
    }

    [Fact]
    public async Task Quarantine_IsListedInOrdinalOrder_PagedAfterAnId_AndUpdatedInPlace()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.QuarantineAsync(migration, [Quarantined("b", "first", 0), Quarantined("B", "x", 0)]);
        await store.QuarantineAsync(migration, [Quarantined("a", "y", 1), Quarantined("b", "again", 2)]);

        IReadOnlyList<QuarantinedEntity> all = await store.GetQuarantinedAsync(migration, null, 10);
        IReadOnlyList<QuarantinedEntity> page = await store.GetQuarantinedAsync(migration, "B", 1);

        Assert.Equal(["B", "a", "b"], all.Select(q => q.EntityId));
        Assert.Equal(Quarantined("b", "again", 2) with { Attempts = 2 }, all[2]);
        Assert.Equal(["a"], page.Select(q => q.EntityId));
        Assert.Empty(await store.GetQuarantinedAsync(NewMigration(), null, 10));
    }

    [Fact]
    public async Task ClearQuarantined_RemovesThoseIds_AndIgnoresOthers()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        await store.QuarantineAsync(migration, [Quarantined("a", "e", 0), Quarantined("b", "e", 0)]);

        await store.ClearQuarantinedAsync(migration, ["a", "not-there"]);

        Assert.Equal(["b"], (await store.GetQuarantinedAsync(migration, null, 10)).Select(q => q.EntityId));
    }

    [Fact]
    public async Task Quarantine_AnErrorWithAnyText_IsKeptAsItIs()
    {
        IBackfillCheckpointStore store = await CreateStoreAsync();
        string migration = NewMigration();
        string error = "MigrationMappingException: it's '; DROP TABLE x; -- \"quoted\" \u00e9\u4e2d";

        await store.QuarantineAsync(migration, [Quarantined("id'1", error, 0)]);

        QuarantinedEntity kept = Assert.Single(await store.GetQuarantinedAsync(migration, null, 10));
        Assert.Equal(Quarantined("id'1", error, 0), kept);
    }

    private static string NewMigration() => $"backfill-conformance-{Guid.NewGuid():N}";

    private static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    private static BackfillCheckpoint Checkpoint(string migration, string cursor, long n, bool complete = false) =>
        new()
        {
            Migration = migration,
            Cursor = cursor,
            Counts = new BackfillCounts
            {
                Scanned = n * 10,
                Migrated = n * 6,
                AlreadyPresent = n * 2,
                Vanished = n,
                Quarantined = n,
            },
            IsComplete = complete,
            UpdatedAt = At((int)n),
        };

    private static QuarantinedEntity Quarantined(string id, string error, int seconds) =>
        new(id, error, At(seconds), 1);
}
