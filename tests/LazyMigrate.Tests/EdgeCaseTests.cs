using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace LazyMigrate.Tests;

/// <summary>
/// Cancellation at awkward moments, foreign failures and re-entrant handlers: each once broke an invariant.
/// </summary>
public sealed class EdgeCaseTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    [Fact]
    public async Task CallerGivesUpRightAfterTheInsert_EventIsStillRaisedWithALiveToken()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        using var caller = new CancellationTokenSource();
        store.AfterInsert = caller.Cancel;
        var raised = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = MigrationHarness
            .Create(
                shared,
                configure: b =>
                    b.UseNewStore(store)
                        .OnMigrated(
                            (_, ct) =>
                            {
                                raised.TrySetResult(ct.IsCancellationRequested);
                                return ValueTask.CompletedTask;
                            }
                        )
            )
            .SeedLegacy(1);

        try
        {
            // The caller may see its cancellation or, if the migration finished first, the entity: either is fine.
            await harness.Repository.GetAsync(Id, caller.Token);
        }
        catch (OperationCanceledException) { }

        Assert.True(caller.IsCancellationRequested);

        Assert.False(await raised.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(NewStoreState.Found, shared.New.Peek(Id).State);
    }

    [Fact]
    public async Task SyncWriteBack_CallerCancelsBetweenTheTwoWrites_OldStoreStillGetsTheChange()
    {
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        using var caller = new CancellationTokenSource();
        store.AfterUpsert = caller.Cancel;
        await using var harness = MigrationHarness
            .Create(shared, o => o.WriteBackMode = WriteBackMode.Sync, b => b.UseNewStore(store))
            .SeedLegacy(1);
        var changed = new NewCustomer("Ada", "Lovelace", "ada@example.com");

        await harness.Repository.SaveAsync(Id, changed, caller.Token);

        Assert.True(caller.IsCancellationRequested);
        Assert.Equal(changed, shared.New.Peek(Id).Value);
        Assert.Equal(new OldCustomer("Ada Lovelace", "ada@example.com"), shared.Old.Peek(Id));
    }

    [Fact]
    public async Task HandlerThatSavesTheMigratedEntity_DoesNotWaitOnItsOwnMigrationsLock()
    {
        var handlerDone = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        IMigratingRepository<OldCustomer, NewCustomer>? repository = null;
        await using var harness = MigrationHarness
            .Create(
                options: o =>
                {
                    o.WriteBackMode = WriteBackMode.Sync;
                    o.LockTimeout = TimeSpan.Zero;
                },
                configure: b =>
                    b.OnMigrated(
                        async (e, ct) =>
                        {
                            try
                            {
                                await repository!.SaveAsync(
                                    e.EntityId,
                                    e.NewValue with
                                    {
                                        Email = "enriched@example.com",
                                    },
                                    ct
                                );
                                handlerDone.TrySetResult(null);
                            }
                            catch (Exception exception)
                            {
                                handlerDone.TrySetResult(exception);
                            }
                        }
                    )
            )
            .SeedLegacy(1);
        repository = harness.Repository;

        await harness.Repository.GetAsync(Id);

        Assert.Null(await handlerDone.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("enriched@example.com", harness.New.Peek(Id).Value!.Email);
        Assert.Equal("enriched@example.com", harness.Old.Peek(Id)!.Email);
    }

    [Fact]
    public async Task StoreThrowsItsOwnCancellation_SurfacesAsTypedStoreError()
    {
        var old = Substitute.For<IOldStore<OldCustomer>>();
        old.FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(ValueTask.FromException<OldCustomer?>(new TaskCanceledException("HTTP client timeout")));
        await using var harness = MigrationHarness.Create(
            options: o => o.MaxRetryAttempts = 0,
            configure: b => b.UseOldStore(old)
        );

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.IsType<TaskCanceledException>(failure.InnerException);
    }

    [Fact]
    public async Task BatchedCallFails_ErrorSaysHowManyEntitiesItConcerned()
    {
        var old = Substitute.For<IOldStore<OldCustomer>>();
        old.FindManyAsync(Arg.Any<IReadOnlyCollection<string>>(), Arg.Any<CancellationToken>())
            .Returns(
                ValueTask.FromException<IReadOnlyDictionary<string, OldCustomer>>(
                    new InvalidOperationException("legacy database is down")
                )
            );
        await using var harness = MigrationHarness.Create(configure: b => b.UseOldStore(old));

        var batch = await Assert.ThrowsAsync<MigrationBatchException<NewCustomer>>(async () =>
            await harness.Repository.GetManyAsync(["a", "b", "c"])
        );

        Assert.Equal(["a", "b", "c"], batch.Failures.Keys);
        var failure = Assert.IsType<MigrationStoreException>(batch.Failures["a"]);
        Assert.All(batch.Failures.Values, f => Assert.Same(failure, f));
        Assert.Empty(batch.Found);
        Assert.Equal(3, failure.EntityCount);
        Assert.Contains("a batch of 3 entities", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NegativeCache_InASizeLimitedSharedMemoryCache_Works()
    {
        await using var harness = MigrationHarness.Create(configure: b =>
        {
            b.Services.AddMemoryCache(o => o.SizeLimit = 1_000);
            b.UseNegativeCache(TimeSpan.FromMinutes(1));
        });

        Assert.Null(await harness.Repository.GetAsync("nobody"));
        Assert.Null(await harness.Repository.GetAsync("nobody"));
        Assert.Equal(1, harness.Old.ReadCount);
    }

    [Fact]
    public async Task WithoutLock_AMissReadsTheNewStoreOnce_LikeANaiveDecorator()
    {
        var shared = new SharedStores();
        var counting = new CountingNewStore<NewCustomer>(shared.New);
        await using var harness = MigrationHarness
            .Create(shared, o => o.UseLock = false, b => b.UseNewStore(counting))
            .SeedLegacy(1);

        await harness.Repository.GetAsync(Id);

        Assert.Equal(1, counting.FindCalls + counting.FindManyCalls);
        Assert.Equal(1, counting.InsertedCount);
    }

    [Fact]
    public async Task EmptyPipeline_SendsCallsStraightToTheStore()
    {
        var newStore = Substitute.For<INewStore<NewCustomer>>();
        newStore
            .FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(
                new ValueTask<NewStoreRead<NewCustomer>>(NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0)))
            );
        await using var harness = MigrationHarness.Create(configure: b =>
            b.UseNewStore(newStore).UseResilience(MigrationRole.NewStore, Polly.ResiliencePipeline.Empty)
        );

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        await newStore.Received(1).FindAsync(Id, CancellationToken.None);
    }
}
