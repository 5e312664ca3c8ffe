using LazyMigrate.Tests.Support;
using NSubstitute;
using Polly;
using Polly.Retry;

namespace LazyMigrate.Tests;

public sealed class ResilienceTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    private static IOldStore<OldCustomer> OldStoreFailingOnce(Exception failure)
    {
        var old = Substitute.For<IOldStore<OldCustomer>>();
        old.FindAsync(Id, Arg.Any<CancellationToken>()).Returns(
            ValueTask.FromException<OldCustomer?>(failure),
            new ValueTask<OldCustomer?>(MigrationHarness.Legacy(0)));
        return old;
    }

    [Fact]
    public async Task TransientFailure_IsRetriedByTheDefaultPipeline()
    {
        var old = OldStoreFailingOnce(new TransientStoreException("connection reset"));
        await using var harness = MigrationHarness.Create(configure: b => b.UseOldStore(old));

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        await old.ReceivedWithAnyArgs(2).FindAsync(default!, default);
    }

    [Fact]
    public async Task PermanentFailure_IsNotRetried_AndSurfacesAsTypedStoreError()
    {
        var old = OldStoreFailingOnce(new System.Text.Json.JsonException("corrupt legacy record"));
        await using var harness = MigrationHarness.Create(configure: b => b.UseOldStore(old));

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () => await harness.Repository.GetAsync(Id));

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(MigrationRole.OldStore, failure.Role);
        Assert.IsType<System.Text.Json.JsonException>(failure.InnerException);
        Assert.Contains("corrupt legacy record", failure.Message, StringComparison.Ordinal);
        await old.ReceivedWithAnyArgs(1).FindAsync(default!, default);
        Assert.Equal(NewStoreState.Missing, harness.New.Peek(Id).State);
    }

    [Fact]
    public async Task InvalidIdFromAStore_PassesThroughUnchangedAndUnretried()
    {
        var newStore = Substitute.For<INewStore<NewCustomer>>();
        newStore.FindAsync("not-a-number", Arg.Any<CancellationToken>())
            .Returns(ValueTask.FromException<NewStoreRead<NewCustomer>>(new InvalidEntityIdException("not-a-number", "expected an integer key")));
        await using var harness = MigrationHarness.Create(configure: b => b.UseNewStore(newStore));

        var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await harness.Repository.GetAsync("not-a-number"));

        Assert.Equal("not-a-number", failure.EntityId);
        await newStore.Received(1).FindAsync("not-a-number", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RetriesExhausted_SurfaceAsTypedStoreError()
    {
        var old = Substitute.For<IOldStore<OldCustomer>>();
        old.FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(_ => ValueTask.FromException<OldCustomer?>(new TimeoutException("no answer")));
        await using var harness = MigrationHarness.Create(options: o => o.MaxRetryAttempts = 2, configure: b => b.UseOldStore(old));

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () => await harness.Repository.GetAsync(Id));

        Assert.IsType<TimeoutException>(failure.InnerException);
        await old.ReceivedWithAnyArgs(3).FindAsync(default!, default);
    }

    [Fact]
    public async Task UseResilience_ReplacesTheDefaultPipelineOfItsRole()
    {
        var old = OldStoreFailingOnce(new InvalidOperationException("flaky in a way only we know"));
        await using var harness = MigrationHarness.Create(configure: b => b
            .UseOldStore(old)
            .UseResilience(MigrationRole.OldStore, p => p.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>(),
                Delay = TimeSpan.Zero,
                MaxRetryAttempts = 1,
            })));

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HotRead_AnsweredAfterAnAwait_ReturnsWhatTheNewStoreHolds(bool emptyPipeline)
    {
        // A database answers later: the read crosses the pipeline (or none) asynchronously, found and tombstone alike.
        var newStore = Substitute.For<INewStore<NewCustomer>>();
        newStore.FindAsync(Id, Arg.Any<CancellationToken>()).Returns(_ => AnswerLater(NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0))));
        newStore.FindAsync("gone", Arg.Any<CancellationToken>()).Returns(_ => AnswerLater(NewStoreRead<NewCustomer>.Deleted));
        await using var harness = MigrationHarness.Create(configure: b => NewStoreWithPipeline(b, newStore, emptyPipeline));

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        Assert.Null(await harness.Repository.GetAsync("gone"));
        await newStore.DidNotReceiveWithAnyArgs().InsertIfAbsentAsync(default!, default!, default);
    }

    [Theory]
    [InlineData(false, StoreFailure.Thrown)]
    [InlineData(false, StoreFailure.FaultedAtOnce)]
    [InlineData(false, StoreFailure.FaultedAfterAnAwait)]
    [InlineData(true, StoreFailure.Thrown)]
    [InlineData(true, StoreFailure.FaultedAtOnce)]
    [InlineData(true, StoreFailure.FaultedAfterAnAwait)]
    public async Task HotRead_Failing_IsATypedStoreErrorNamingTheEntity(bool emptyPipeline, StoreFailure how)
    {
        var newStore = Substitute.For<INewStore<NewCustomer>>();
        var cause = new InvalidOperationException("disk on fire");
        newStore.FindAsync(Id, Arg.Any<CancellationToken>()).Returns(_ => how switch
        {
            StoreFailure.Thrown => throw cause,
            StoreFailure.FaultedAtOnce => ValueTask.FromException<NewStoreRead<NewCustomer>>(cause),
            _ => FailLater(cause),
        });
        await using var harness = MigrationHarness.Create(configure: b => NewStoreWithPipeline(b, newStore, emptyPipeline));

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () => await harness.Repository.GetAsync(Id));

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(MigrationRole.NewStore, failure.Role);
        Assert.Equal("find", failure.Operation);
        Assert.Same(cause, failure.InnerException);
        await newStore.Received(1).FindAsync(Id, Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(typeof(TransientStoreException), true)]
    [InlineData(typeof(TimeoutException), true)]
    [InlineData(typeof(IOException), true)]
    [InlineData(typeof(InvalidOperationException), false)]
    [InlineData(typeof(FormatException), false)]
    [InlineData(typeof(WrappedTimeout), true)]
    public void TransientFailure_ClassifiesCommonExceptions(Type type, bool transient)
    {
        var exception = type == typeof(TransientStoreException) ? new TransientStoreException("x") : (Exception)Activator.CreateInstance(type)!;

        Assert.Equal(transient, TransientFailure.IsTransient(exception));
    }

    private static ILazyMigrationBuilder<OldCustomer, NewCustomer> NewStoreWithPipeline(ILazyMigrationBuilder<OldCustomer, NewCustomer> builder, INewStore<NewCustomer> newStore, bool emptyPipeline) =>
        emptyPipeline ? builder.UseNewStore(newStore).UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty) : builder.UseNewStore(newStore);

    private static async ValueTask<NewStoreRead<NewCustomer>> AnswerLater(NewStoreRead<NewCustomer> read)
    {
        await Task.Yield();
        return read;
    }

    private static async ValueTask<NewStoreRead<NewCustomer>> FailLater(Exception failure)
    {
        await Task.Yield();
        throw failure;
    }

    /// <summary>How a store's read fails: thrown by the call, returned already faulted, or faulted once it answers.</summary>
    public enum StoreFailure
    {
        Thrown,
        FaultedAtOnce,
        FaultedAfterAnAwait,
    }

    /// <summary>A failure that wraps a transient one, as EF Core's DbUpdateException wraps a DbException.</summary>
    public sealed class WrappedTimeout() : Exception("save failed", new TimeoutException("no answer"));
}
