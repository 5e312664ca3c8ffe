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
        old.FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(
                ValueTask.FromException<OldCustomer?>(failure),
                new ValueTask<OldCustomer?>(MigrationHarness.Legacy(0))
            );
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

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

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
        newStore
            .FindAsync("not-a-number", Arg.Any<CancellationToken>())
            .Returns(
                ValueTask.FromException<NewStoreRead<NewCustomer>>(
                    new InvalidEntityIdException("not-a-number", "expected an integer key")
                )
            );
        await using var harness = MigrationHarness.Create(configure: b => b.UseNewStore(newStore));

        var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await harness.Repository.GetAsync("not-a-number")
        );

        Assert.Equal("not-a-number", failure.EntityId);
        await newStore.Received(1).FindAsync("not-a-number", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RetriesExhausted_SurfaceAsTypedStoreError()
    {
        var old = Substitute.For<IOldStore<OldCustomer>>();
        old.FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(_ => ValueTask.FromException<OldCustomer?>(new TimeoutException("no answer")));
        await using var harness = MigrationHarness.Create(
            options: o => o.MaxRetryAttempts = 2,
            configure: b => b.UseOldStore(old)
        );

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.IsType<TimeoutException>(failure.InnerException);
        await old.ReceivedWithAnyArgs(3).FindAsync(default!, default);
    }

    [Fact]
    public async Task UseResilience_ReplacesTheDefaultPipelineOfItsRole()
    {
        var old = OldStoreFailingOnce(new InvalidOperationException("flaky in a way only we know"));
        await using var harness = MigrationHarness.Create(configure: b =>
            b.UseOldStore(old).UseResilience(MigrationRole.OldStore, RetryingInvalidOperationOnce)
        );

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HotRead_AnsweredAfterAnAwait_ReturnsWhatTheNewStoreHolds(bool emptyPipeline)
    {
        // A database answers later: the read crosses the pipeline (or none) asynchronously, found and tombstone alike.
        var newStore = Substitute.For<INewStore<NewCustomer>>();
        newStore
            .FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(_ => AnswerLater(NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0))));
        newStore
            .FindAsync("gone", Arg.Any<CancellationToken>())
            .Returns(_ => AnswerLater(NewStoreRead<NewCustomer>.Deleted));
        await using var harness = MigrationHarness.Create(configure: b =>
            NewStoreWithPipeline(b, newStore, emptyPipeline)
        );

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
        newStore
            .FindAsync(Id, Arg.Any<CancellationToken>())
            .Returns(_ =>
                how switch
                {
                    StoreFailure.Thrown => throw cause,
                    StoreFailure.FaultedAtOnce => ValueTask.FromException<NewStoreRead<NewCustomer>>(cause),
                    _ => FailLater(cause),
                }
            );
        await using var harness = MigrationHarness.Create(configure: b =>
            NewStoreWithPipeline(b, newStore, emptyPipeline)
        );

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.Equal(Id, failure.EntityId);
        Assert.Equal(MigrationRole.NewStore, failure.Role);
        Assert.Equal("find", failure.Operation);
        Assert.Same(cause, failure.InnerException);
        await newStore.Received(1).FindAsync(Id, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task HotRead_WithTheDefaultOptions_CallsTheStoreDirectlyWithTheCallersToken()
    {
        // Through Polly's per-attempt timeout the store would get a token of Polly's own, linked to the caller's.
        var newStore = new ScriptedNewStore(_ =>
            AnswerLater(NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0)))
        );
        await using var harness = MigrationHarness.Create(configure: b => b.UseNewStore(newStore));
        using var caller = new CancellationTokenSource();

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id, caller.Token));

        Assert.Equal([caller.Token], newStore.Tokens);
    }

    [Fact]
    public async Task HotRead_TransientFailureOnTheDirectFirstAttempt_IsRetriedAfterTheBackoff()
    {
        var shared = new SharedStores();
        var newStore = new ScriptedNewStore(
            call =>
                call == 1
                    ? ValueTask.FromException<NewStoreRead<NewCustomer>>(
                        new TransientStoreException("connection reset")
                    )
                    : new ValueTask<NewStoreRead<NewCustomer>>(
                        NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0))
                    ),
            shared.Time
        );
        await using var harness = MigrationHarness.Create(
            shared,
            o => o.RetryDelay = TimeSpan.FromSeconds(1),
            b => b.UseNewStore(newStore)
        );

        ValueTask<NewCustomer?> read = harness.Repository.GetAsync(Id);

        // The backoff waits on the clock: with no time passed, the store has been called once and the read waits.
        Assert.False(read.IsCompleted);
        Assert.Equal(1, newStore.Calls);
        await AdvanceUntilAsync(shared.Time, () => newStore.Calls == 2);
        Assert.Equal(MigrationHarness.Mapped(0), await read);
        Assert.True(newStore.CalledAt[1] > newStore.CalledAt[0], "The retry did not wait for its backoff.");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task HotRead_FailingTransientlyEveryTime_IsAttemptedOncePlusMaxRetryAttempts(int maxRetryAttempts)
    {
        var shared = new SharedStores();
        // Failing at once: a failure that came later could race the fake clock past AttemptTimeout and fail
        // differently.
        var newStore = new ScriptedNewStore(
            _ => ValueTask.FromException<NewStoreRead<NewCustomer>>(new TransientStoreException("connection reset")),
            shared.Time
        );
        await using var harness = MigrationHarness.Create(
            shared,
            o => (o.MaxRetryAttempts, o.RetryDelay) = (maxRetryAttempts, TimeSpan.FromSeconds(1)),
            b => b.UseNewStore(newStore)
        );

        Task<NewCustomer?> read = harness.Repository.GetAsync(Id).AsTask();
        await AdvanceUntilAsync(shared.Time, () => read.IsCompleted);

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(() => read);
        Assert.IsType<TransientStoreException>(failure.InnerException);
        Assert.Equal(1 + maxRetryAttempts, newStore.Calls);
    }

    [Fact]
    public async Task HotRead_HungFirstAttempt_IsAbandonedAfterAttemptTimeout_AndRetried()
    {
        // A frozen server: the driver ignores its token and never answers the first read.
        var hung = new TaskCompletionSource<NewStoreRead<NewCustomer>>();
        var shared = new SharedStores();
        var newStore = new ScriptedNewStore(
            call =>
                call == 1
                    ? new ValueTask<NewStoreRead<NewCustomer>>(hung.Task)
                    : new ValueTask<NewStoreRead<NewCustomer>>(
                        NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0))
                    ),
            shared.Time
        );
        var attemptTimeout = TimeSpan.FromSeconds(10);
        await using var harness = MigrationHarness.Create(
            shared,
            o => (o.AttemptTimeout, o.RetryDelay) = (attemptTimeout, TimeSpan.FromSeconds(1)),
            b => b.UseNewStore(newStore)
        );
        DateTimeOffset start = shared.Time.GetUtcNow();

        Task<NewCustomer?> read = harness.Repository.GetAsync(Id).AsTask();
        shared.Time.Advance(attemptTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(read.IsCompleted);
        Assert.Equal(1, newStore.Calls);
        await AdvanceUntilAsync(shared.Time, () => read.IsCompleted);

        Assert.Equal(MigrationHarness.Mapped(0), await read);
        Assert.Equal(2, newStore.Calls);
        Assert.True(
            newStore.CalledAt[1] - start >= attemptTimeout,
            "The second attempt started before the first one's bound."
        );
        hung.SetException(new TimeoutException("the driver's own command timeout, much later"));
    }

    [Fact]
    public async Task HotRead_NonTransientFailureOfTheDirectFirstAttempt_IsNotRetried()
    {
        var newStore = new ScriptedNewStore(_ => FailLater(new FormatException("not a customer")));
        await using var harness = MigrationHarness.Create(configure: b => b.UseNewStore(newStore));

        var failure = await Assert.ThrowsAsync<MigrationStoreException>(async () =>
            await harness.Repository.GetAsync(Id)
        );

        Assert.IsType<FormatException>(failure.InnerException);
        Assert.Equal(1, newStore.Calls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HotRead_CancelledByTheCaller_PassesTheCancellationThrough_Unretried(bool storeHonoursItsToken)
    {
        var answered = new TaskCompletionSource<NewStoreRead<NewCustomer>>();
        var newStore = new ScriptedNewStore(_ => new ValueTask<NewStoreRead<NewCustomer>>(answered.Task));
        newStore.OnCall = token =>
        {
            if (storeHonoursItsToken)
            {
                token.Register(() => answered.TrySetCanceled(token));
            }
        };
        await using var harness = MigrationHarness.Create(configure: b => b.UseNewStore(newStore));
        using var caller = new CancellationTokenSource();

        ValueTask<NewCustomer?> read = harness.Repository.GetAsync(Id, caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        Assert.Equal(1, newStore.Calls);
        answered.TrySetResult(NewStoreRead<NewCustomer>.Missing);
    }

    [Fact]
    public async Task HotRead_ThroughAConfiguredPipeline_RunsItsFirstAttemptThroughThePipeline()
    {
        // Not transient to the defaults, so only the configured pipeline retries it, and only if it ran the first
        // attempt.
        var newStore = new ScriptedNewStore(call =>
            call == 1
                ? FailLater(new InvalidOperationException("flaky in a way only we know"))
                : AnswerLater(NewStoreRead<NewCustomer>.Found(MigrationHarness.Mapped(0)))
        );
        await using var harness = MigrationHarness.Create(configure: b =>
            b.UseNewStore(newStore).UseResilience(MigrationRole.NewStore, RetryingInvalidOperationOnce)
        );

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        Assert.Equal(2, newStore.Calls);
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
        var exception =
            type == typeof(TransientStoreException)
                ? new TransientStoreException("x")
                : (Exception)Activator.CreateInstance(type)!;

        Assert.Equal(transient, TransientFailure.IsTransient(exception));
    }

    /// <summary>
    /// A pipeline the user configures: one retry of a failure that the default pipelines do not retry.
    /// </summary>
    private static void RetryingInvalidOperationOnce(ResiliencePipelineBuilder builder) =>
        builder.AddRetry(
            new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>(),
                Delay = TimeSpan.Zero,
                MaxRetryAttempts = 1,
            }
        );

    private static ILazyMigrationBuilder<OldCustomer, NewCustomer> NewStoreWithPipeline(
        ILazyMigrationBuilder<OldCustomer, NewCustomer> builder,
        INewStore<NewCustomer> newStore,
        bool emptyPipeline
    ) =>
        emptyPipeline
            ? builder.UseNewStore(newStore).UseResilience(MigrationRole.NewStore, ResiliencePipeline.Empty)
            : builder.UseNewStore(newStore);

    /// <summary>
    /// Advances the fake clock a second at a time until the condition holds, letting the awaits that a step completed
    /// run in between; the cap turns a wait that would never end into a failure.
    /// </summary>
    /// <remarks>
    /// Between steps the loop gives up its thread for a real millisecond, not a <c>Task.Yield</c>: a yield on a
    /// thread-pool thread queues the loop on that thread's own queue, which it takes back at once, so while the other
    /// threads were busy (a full test run) the loop spun through its hour of fake time before the retry's continuation,
    /// queued on the global queue, ever ran ('The condition did not hold within an hour of fake time').
    /// </remarks>
    private static async Task AdvanceUntilAsync(
        Microsoft.Extensions.Time.Testing.FakeTimeProvider time,
        Func<bool> condition
    )
    {
        for (int step = 0; !condition(); step++)
        {
            Assert.True(step < 3_600, "The condition did not hold within an hour of fake time.");
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System);
        }
    }

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

    /// <summary>
    /// How a store's read fails: thrown by the call, returned already faulted, or faulted once it answers.
    /// </summary>
    public enum StoreFailure
    {
        Thrown,
        FaultedAtOnce,
        FaultedAfterAnAwait,
    }

    /// <summary>
    /// A new store whose reads answer as the script says for each call (1 for the first), and that records its calls.
    /// </summary>
    private sealed class ScriptedNewStore(
        Func<int, ValueTask<NewStoreRead<NewCustomer>>> answer,
        TimeProvider? time = null
    ) : INewStore<NewCustomer>
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public List<CancellationToken> Tokens { get; } = [];

        public List<DateTimeOffset> CalledAt { get; } = [];

        public Action<CancellationToken>? OnCall { get; set; }

        public ValueTask<NewStoreRead<NewCustomer>> FindAsync(string id, CancellationToken cancellationToken = default)
        {
            lock (Tokens)
            {
                Tokens.Add(cancellationToken);
                CalledAt.Add((time ?? TimeProvider.System).GetUtcNow());
            }

            OnCall?.Invoke(cancellationToken);
            return answer(Interlocked.Increment(ref _calls));
        }

        public ValueTask<IReadOnlyDictionary<string, NewStoreRead<NewCustomer>>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        ) => throw new NotSupportedException();

        public ValueTask<bool> InsertIfAbsentAsync(
            string id,
            NewCustomer entity,
            CancellationToken cancellationToken = default
        ) => throw new NotSupportedException();

        public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
            IReadOnlyCollection<KeyValuePair<string, NewCustomer>> entities,
            CancellationToken cancellationToken = default
        ) => throw new NotSupportedException();

        public ValueTask UpsertAsync(string id, NewCustomer entity, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    /// <summary>A failure that wraps a transient one, as EF Core's DbUpdateException wraps a DbException.</summary>
    public sealed class WrappedTimeout() : Exception("save failed", new TimeoutException("no answer"));
}
