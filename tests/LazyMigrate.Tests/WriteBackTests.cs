using LazyMigrate.InMemory;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LazyMigrate.Tests;

/// <summary>
/// Write-back and invariant 8: with write-back on, old readers (and a rollback to them) lose nothing.
/// </summary>
public sealed class WriteBackTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task SyncWriteBack_SaveReachesOldStoreBeforeReturning()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(1);
        var changed = new NewCustomer("Ada", "Lovelace", "ada@example.com");

        await harness.Repository.SaveAsync(Id, changed);

        Assert.Equal(new OldCustomer("Ada Lovelace", "ada@example.com"), harness.Old.Peek(Id));
        Assert.Equal(changed, harness.New.Peek(Id).Value);
    }

    [Fact]
    public async Task AsyncWriteBack_WithoutTheLock_ReadsTheCurrentStateAndStillReachesTheOldStore()
    {
        await using var harness = MigrationHarness
            .Create(
                options: o =>
                {
                    o.WriteBackMode = WriteBackMode.Async;
                    o.UseLock = false;
                },
                configure: b => b.UseInMemoryOutbox()
            )
            .SeedLegacy(2);
        var changed = new NewCustomer("Ada", "Lovelace", "ada@example.com");

        await harness.Repository.SaveAsync(Id, changed);
        await harness.Repository.DeleteAsync(MigrationHarness.Id(1));
        await harness.DrainAsync();

        Assert.Equal(new OldCustomer("Ada Lovelace", "ada@example.com"), harness.Old.Peek(Id));
        Assert.Null(harness.Old.Peek(MigrationHarness.Id(1)));
        Assert.Empty(await harness.Dispatcher.GetDeadLettersAsync());
    }

    [Fact]
    public async Task SyncWriteBack_AnIdTheOldStoreCannotKeyOn_FailsTheSaveAndTheDeleteBeforeTheNewStoreChanges()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.Create(
            shared,
            o => o.WriteBackMode = WriteBackMode.Sync,
            b => b.UseOldStore(new IdRejectingOldStore<OldCustomer>(shared.Old))
        );
        string saved = IdRejectingOldStore<OldCustomer>.RejectedPrefix + "1";
        string deleted = IdRejectingOldStore<OldCustomer>.RejectedPrefix + "2";

        var save = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            harness.Repository.SaveAsync(saved, new NewCustomer("Ada", "Lovelace", "ada@example.com")).AsTask()
        );
        var delete = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            harness.Repository.DeleteAsync(deleted).AsTask()
        );

        Assert.Equal(saved, save.EntityId);
        Assert.Equal(deleted, delete.EntityId);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(saved).State);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(deleted).State);
    }

    [Fact]
    public async Task SyncWriteBack_DeleteReachesOldStoreAndStaysDeleted()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(1);

        await harness.Repository.DeleteAsync(Id);

        Assert.Null(harness.Old.Peek(Id));
        Assert.Null(await harness.Repository.GetAsync(Id));
        Assert.Equal(NewStoreState.Deleted, harness.New.Peek(Id).State);
    }

    [Fact]
    public async Task NoWriteBack_OldStoreIsUntouched()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(9));
        await harness.Repository.DeleteAsync(MigrationHarness.Id(0));

        Assert.Equal(MigrationHarness.Legacy(0), harness.Old.Peek(Id));
        Assert.Equal(0, harness.Old.WriteCount);
    }

    [Fact]
    public async Task ReverseMapperThrows_NothingWrittenAnywhere()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(1);
        harness.Mapper.FailMapBack = true;

        var failure = await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(9))
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
        Assert.Equal(MigrationHarness.Legacy(0), harness.Old.Peek(Id));
    }

    [Fact]
    public async Task OldStoreWriteFails_SaveThrowsStoreError_RetryConverges()
    {
        var shared = new SharedStores();
        var old = new FirstUpsertFailsOldStore(shared.Old);
        await using var harness = MigrationHarness
            .Create(shared, options: o => o.WriteBackMode = WriteBackMode.Sync, configure: b => b.UseOldStore(old))
            .SeedLegacy(1);

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(1))
        );
        Assert.Equal(MigrationHarness.Legacy(0), shared.Old.Peek(Id)); // the failed write changed nothing
        await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(1));

        Assert.Equal(MigrationRole.OldStore, failure.Role);
        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(MigrationHarness.Mapped(1), harness.New.Peek(Id).Value);
        Assert.Equal(MigrationHarness.Legacy(1), shared.Old.Peek(Id));
    }

    [Fact]
    public async Task RollbackToOldReads_AfterMixedTraffic_LosesNoWrite()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(30);
        var expected = new Dictionary<string, OldCustomer?>();
        for (int n = 0; n < 30; n++)
        {
            string id = MigrationHarness.Id(n);
            switch (n % 3)
            {
                case 0:
                    await harness.Repository.GetAsync(id); // migrated, unchanged
                    expected[id] = MigrationHarness.Legacy(n);
                    break;
                case 1:
                    await harness.Repository.SaveAsync(id, new NewCustomer("Renamed", $"N{n}", $"r{n}@example.com"));
                    expected[id] = new OldCustomer($"Renamed N{n}", $"r{n}@example.com");
                    break;
                default:
                    await harness.Repository.DeleteAsync(id);
                    expected[id] = null;
                    break;
            }
        }

        await harness.Repository.SaveAsync("brand-new", new NewCustomer("Brand", "New", "b@example.com"));
        expected["brand-new"] = new OldCustomer("Brand New", "b@example.com");

        // Rolling reads back means old clients read the old store again: it must hold every write.
        var oldReader = (IOldStore<OldCustomer>)harness.Old;
        foreach (var (id, value) in expected)
        {
            Assert.Equal(value, await oldReader.FindAsync(id));
        }
    }

    [Fact]
    public async Task SaveAfterDelete_RecreatesTheEntity()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(1);

        await harness.Repository.DeleteAsync(Id);
        await harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(3));

        Assert.Equal(MigrationHarness.Mapped(3), await harness.Repository.GetAsync(Id));
        Assert.Equal(MigrationHarness.Legacy(3), harness.Old.Peek(Id));
    }

    [Fact]
    public void InMemoryOldStore_CanBeSeededFromPairs()
    {
        var store = new InMemoryOldStore<OldCustomer>([new("a", MigrationHarness.Legacy(1))]);

        Assert.Equal(1, store.Count);
        Assert.Equal(MigrationHarness.Legacy(1), store.Peek("a"));
    }

    [Fact]
    public async Task SyncWriteBack_WaitsForTheEntityLock_SoWritesOfOneIdStayOrdered()
    {
        await using var harness = MigrationHarness
            .Create(options: o => o.WriteBackMode = WriteBackMode.Sync)
            .SeedLegacy(1);
        IMigrationLockHandle? held = await harness.Shared.Lock.TryAcquireAsync(
            MigrationHarness.LockKey(Id),
            TimeSpan.Zero
        );

        Task saving = harness.Repository.SaveAsync(Id, MigrationHarness.Mapped(5)).AsTask();

        Assert.False(saving.IsCompleted);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
        await held!.DisposeAsync();
        await saving;
        Assert.Equal(MigrationHarness.Mapped(5), harness.New.Peek(Id).Value);
        Assert.Equal(MigrationHarness.Legacy(5), harness.Old.Peek(Id));
    }

    [Fact]
    public async Task SyncWriteBack_LockLostBetweenItsTwoWrites_CopiesTheNewStoresCurrentStateToTheOldStore()
    {
        var shared = new SharedStores();
        var held = new FirstUpsertHeldOldStore<OldCustomer>(shared.Old);
        await using var first = MigrationHarness
            .Create(
                shared,
                o => o.WriteBackMode = WriteBackMode.Sync,
                b =>
                {
                    b.UseOldStore(held);
                    b.Services.AddLogging(logging => logging.AddFakeLogging());
                }
            )
            .SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared, o => o.WriteBackMode = WriteBackMode.Sync);

        Task saving = first.Repository.SaveAsync(Id, MigrationHarness.Mapped(1)).AsTask();
        await held.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)); // in the new store, lock held
        Assert.True(shared.Lock.Expire(MigrationHarness.LockKey(Id))); // tells the holder, then frees the key
        await second.Repository.SaveAsync(Id, MigrationHarness.Mapped(2));
        held.Gate.Release(); // the first's stale version 1 reaches the old store after version 2
        await saving.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(MigrationHarness.Mapped(2), shared.New.Peek(Id).Value);
        Assert.Equal(MigrationHarness.Legacy(2), shared.Old.Peek(Id));
        var records = first.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        var lost = Assert.Single(records, r => r.Id.Name == "WriteBackLockLost");
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.Contains(Id, lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncWriteBack_LockLostBeforeADeletesOldWrite_TheOldStoreEndsDeletedToo()
    {
        var shared = new SharedStores();
        var held = new FirstUpsertHeldOldStore<OldCustomer>(shared.Old);
        await using var first = MigrationHarness
            .Create(shared, o => o.WriteBackMode = WriteBackMode.Sync, b => b.UseOldStore(held))
            .SeedLegacy(1);
        await using var second = MigrationHarness.Create(shared, o => o.WriteBackMode = WriteBackMode.Sync);

        Task saving = first.Repository.SaveAsync(Id, MigrationHarness.Mapped(1)).AsTask();
        await held.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(shared.Lock.Expire(MigrationHarness.LockKey(Id)));
        await second.Repository.DeleteAsync(Id);
        held.Gate.Release();
        await saving.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(NewStoreState.Deleted, shared.New.Peek(Id).State);
        Assert.Null(shared.Old.Peek(Id));
    }

    /// <summary>A real old store whose first upsert fails before writing anything; later writes reach it.</summary>
    private sealed class FirstUpsertFailsOldStore(InMemoryOldStore<OldCustomer> inner) : IOldStore<OldCustomer>
    {
        private int _upserts;

        public ValueTask<OldCustomer?> FindAsync(string id, CancellationToken cancellationToken = default) =>
            inner.FindAsync(id, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, OldCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        ) => inner.FindManyAsync(ids, cancellationToken);

        public IAsyncEnumerable<KeyValuePair<string, OldCustomer>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => inner.ScanAsync(afterId, cancellationToken);

        public ValueTask UpsertAsync(string id, OldCustomer entity, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _upserts) == 1
                ? ValueTask.FromException(new InvalidOperationException("old database is read-only"))
                : inner.UpsertAsync(id, entity, cancellationToken);

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(id, cancellationToken);
    }
}
