using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// The dispatcher's calls an operator or a status page makes (statistics, the dead letters' listing, replay and
/// purge) fail as the repository's do: an id no store can key on is refused before the outbox sees it, and an outbox
/// that is down fails as a <see cref="MigrationStoreException"/> naming the call, not as its driver's exception.
/// </summary>
public sealed class OperatorCallTests
{
    private const string NoStoreCanKeyOn = "customer\0-7";

    private readonly DownOutbox _outbox = new(new InMemoryOutbox());

    private MigrationHarness Create() =>
        MigrationHarness.Create(
            new SharedStores(),
            o => o.WriteBackMode = WriteBackMode.Async,
            b => b.UseOutbox(_outbox).ConfigureOutbox(o => o.DispatchOnWrite = false)
        );

    [Fact]
    public async Task ReplayAndPurge_OfAnIdNoStoreCanKeyOn_AreRefusedNamingIt_BeforeTheOutboxSeesAnyId()
    {
        await using MigrationHarness harness = Create();

        var replay = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            harness.Dispatcher.ReplayDeadLettersAsync([MigrationHarness.Id(1), NoStoreCanKeyOn]).AsTask()
        );
        var purge = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            harness.Dispatcher.PurgeDeadLettersAsync([NoStoreCanKeyOn]).AsTask()
        );

        Assert.Equal(NoStoreCanKeyOn, replay.EntityId);
        Assert.Contains("NUL", replay.Message, StringComparison.Ordinal);
        Assert.Equal(NoStoreCanKeyOn, purge.EntityId);
        Assert.Equal(0, _outbox.DeadLetterCalls);
    }

    [Fact]
    public async Task ReplayAndPurge_OfValidIds_AndOfAll_ReachTheOutbox()
    {
        await using MigrationHarness harness = Create();

        Assert.Equal(0, await harness.Dispatcher.ReplayDeadLettersAsync([MigrationHarness.Id(1)]));
        Assert.Equal(0, await harness.Dispatcher.ReplayDeadLettersAsync());
        Assert.Equal(0, await harness.Dispatcher.PurgeDeadLettersAsync([MigrationHarness.Id(1)]));
        Assert.Equal(0, await harness.Dispatcher.PurgeDeadLettersAsync());

        Assert.Equal(4, _outbox.DeadLetterCalls);
    }

    [Fact]
    public async Task EveryOperatorCall_ToAnOutboxThatIsDown_FailsAsAMigrationStoreException_NamingTheCall()
    {
        await using MigrationHarness harness = Create();
        _outbox.IsDown = true;

        (string Operation, string Entity, Func<Task> Call)[] calls =
        [
            ("statistics", "(outbox)", () => harness.Dispatcher.GetStatisticsAsync().AsTask()),
            ("list_dead_letters", "(outbox)", () => harness.Dispatcher.GetDeadLettersAsync().AsTask()),
            ("replay_dead_letters", "(outbox)", () => harness.Dispatcher.ReplayDeadLettersAsync().AsTask()),
            (
                "replay_dead_letters",
                MigrationHarness.Id(3),
                () => harness.Dispatcher.ReplayDeadLettersAsync([MigrationHarness.Id(3)]).AsTask()
            ),
            ("purge_dead_letters", "(outbox)", () => harness.Dispatcher.PurgeDeadLettersAsync().AsTask()),
        ];
        foreach ((string operation, string entity, Func<Task> call) in calls)
        {
            MigrationStoreException failure = await Assert.ThrowsAsync<MigrationStoreException>(call);

            Assert.Equal(
                (MigrationRole.Outbox, operation, entity),
                (failure.Role, failure.Operation, failure.EntityId)
            );
            Assert.IsType<InvalidOperationException>(failure.InnerException);
        }
    }

    /// <summary>An outbox whose operator calls fail, as a driver's would, while <see cref="IsDown"/> is set.</summary>
    private sealed class DownOutbox(IMigrationOutbox inner) : DelegatingOutbox(inner)
    {
        private int _deadLetterCalls;

        public volatile bool IsDown;

        public int DeadLetterCalls => Volatile.Read(ref _deadLetterCalls);

        public override ValueTask<OutboxStatistics> GetStatisticsAsync(
            string migration,
            CancellationToken cancellationToken = default
        ) => IsDown ? Down<OutboxStatistics>() : base.GetStatisticsAsync(migration, cancellationToken);

        public override ValueTask<IReadOnlyList<OutboxItem>> ListDeadLettersAsync(
            string migration,
            int limit,
            CancellationToken cancellationToken = default
        ) =>
            IsDown ? Down<IReadOnlyList<OutboxItem>>() : base.ListDeadLettersAsync(migration, limit, cancellationToken);

        public override ValueTask<int> ReplayDeadLettersAsync(
            string migration,
            IReadOnlyCollection<string>? entityIds,
            DateTimeOffset now,
            CancellationToken cancellationToken = default
        )
        {
            Interlocked.Increment(ref _deadLetterCalls);
            return IsDown ? Down<int>() : base.ReplayDeadLettersAsync(migration, entityIds, now, cancellationToken);
        }

        public override ValueTask<int> PurgeDeadLettersAsync(
            string migration,
            IReadOnlyCollection<string>? entityIds,
            CancellationToken cancellationToken = default
        )
        {
            Interlocked.Increment(ref _deadLetterCalls);
            return IsDown ? Down<int>() : base.PurgeDeadLettersAsync(migration, entityIds, cancellationToken);
        }

        // Not transient, so that the default pipeline fails it at once, with no backoff on the fake clock.
        private static ValueTask<T> Down<T>() =>
            ValueTask.FromException<T>(new InvalidOperationException("The outbox's table is missing."));
    }
}
