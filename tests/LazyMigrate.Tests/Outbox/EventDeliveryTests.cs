using System.Collections.Concurrent;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// <see cref="EntityMigrated{TOld, TNew}"/> goes through the outbox: handlers run on the dispatcher's side, never on
/// a reader's path; a failing or hanging handler is retried and then dead-lettered; every delivery of an entity's
/// event carries the same id (invariant 10).
/// </summary>
public sealed class EventDeliveryTests
{
    private static readonly string Id = MigrationHarness.Id(0);

    private static MigrationHarness Create(
        InMemoryOutbox outbox,
        IEntityMigratedHandler<OldCustomer, NewCustomer> handler,
        Action<OutboxOptions>? options = null
    ) =>
        MigrationHarness.Create(configure: b =>
            b.UseInMemoryOutbox(outbox)
                .ConfigureOutbox(o =>
                {
                    o.DispatchOnWrite = false;
                    options?.Invoke(o);
                })
                .AddHandler(_ => handler)
        );

    [Fact]
    public async Task AHangingHandler_DoesNotDelayTheRead_TheEventIsDeliveredOnceItsGateOpens()
    {
        var handler = new GatedHandler();

        // The default options: the insert wakes this process's dispatcher, which delivers in the background at once.
        await using var harness = MigrationHarness.Create(configure: b => b.AddHandler(_ => handler)).SeedLegacy(1);

        // Bounded, so that a read held by the handler fails the test instead of hanging it.
        Task<NewCustomer?> read = Task.Run(() => harness.Repository.GetAsync(Id).AsTask());
        await handler.Entered;

        Assert.Equal(MigrationHarness.Mapped(0), await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(handler.Delivered);
        handler.Open();
        await harness.DrainAsync();

        EntityMigrated<OldCustomer, NewCustomer> delivered = Assert.Single(handler.Delivered);
        Assert.Equal(Id, delivered.EntityId);
        Assert.Single(harness.Events);
    }

    [Fact]
    public async Task AThrowingHandler_IsRetriedWithTheSameEventId_ThenDeadLetteredWithItsError()
    {
        var outbox = new InMemoryOutbox();
        var handler = new GatedHandler { Failure = new InvalidOperationException("downstream is down") };
        handler.Open();
        await using var harness = Create(
                outbox,
                handler,
                o =>
                {
                    o.MaxAttempts = 3;
                    o.RetryDelay = TimeSpan.FromSeconds(1);
                }
            )
            .SeedLegacy(1);

        Assert.Equal(MigrationHarness.Mapped(0), await harness.Repository.GetAsync(Id));
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            await harness.DrainAsync();
            Assert.Equal(attempt, handler.Calls.Count);
            if (attempt < 3)
            {
                harness.Shared.Time.SetUtcNow(Assert.Single(outbox.Snapshot()).NextAttemptAt);
            }
        }

        OutboxItem dead = Assert.Single(await harness.Dispatcher.GetDeadLettersAsync());
        Assert.Equal((OutboxItemKind.EntityMigrated, Id, 3), (dead.Kind, dead.EntityId, dead.Attempts));
        Assert.Contains("downstream is down", dead.LastError, StringComparison.Ordinal);
        Guid eventId = EntityMigratedEventId.For(MigrationHarness.MigrationName, Id);
        Assert.All(handler.Calls, e => Assert.Equal(eventId, e.EventId));
    }

    [Fact]
    public async Task AHandlerOutlivingHandlerTimeout_IsCancelledOnTheFakeClock_AndTheAttemptCountsFailed()
    {
        var outbox = new InMemoryOutbox();
        var handler = new GatedHandler();
        TimeSpan timeout = TimeSpan.FromSeconds(10);
        await using var harness = Create(outbox, handler, o => o.HandlerTimeout = timeout).SeedLegacy(1);
        await harness.Repository.GetAsync(Id);

        Task<int> drain = harness.Dispatcher.RunOnceAsync().AsTask();
        CancellationToken handlerToken = await handler.Entered;
        harness.Shared.Time.Advance(timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(handlerToken.IsCancellationRequested);
        Assert.False(drain.IsCompleted);

        harness.Shared.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(handlerToken.IsCancellationRequested);
        Assert.Equal(1, await drain);

        OutboxItem retried = Assert.Single(outbox.Snapshot());
        Assert.Equal((1, false), (retried.Attempts, retried.IsDeadLettered));
        Assert.Contains("did not finish in", retried.LastError, StringComparison.Ordinal);
        Assert.Empty(handler.Delivered);
    }

    [Fact]
    public async Task EachMigratedId_IsDeliveredOnce_WithItsStableEventId()
    {
        var outbox = new InMemoryOutbox();
        var handler = new GatedHandler();
        handler.Open();
        await using var harness = Create(outbox, handler, o => o.BatchSize = 3).SeedLegacy(8);
        string[] ids = [.. Enumerable.Range(0, 8).Select(MigrationHarness.Id)];

        await harness.Repository.GetManyAsync(ids);
        await harness.Repository.GetManyAsync(ids);
        await harness.DrainAsync();

        Assert.Equal(
            ids.ToDictionary(id => id, id => EntityMigratedEventId.For(MigrationHarness.MigrationName, id)),
            handler.Delivered.ToDictionary(e => e.EntityId, e => e.EventId)
        );
        Assert.Equal(8, handler.Delivered.Count);
        Assert.Empty(outbox.Snapshot());
    }

    /// <summary>
    /// A handler that waits for <see cref="Open"/> (honouring its token) and then fails with <see cref="Failure"/> or
    /// records the event as delivered.
    /// </summary>
    private sealed class GatedHandler : IEntityMigratedHandler<OldCustomer, NewCustomer>
    {
        private readonly TaskCompletionSource<CancellationToken> _entered = new(
            TaskCreationOptions.RunContinuationsAsynchronously
        );
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? Failure { get; init; }

        /// <summary>Gets a task that completes, with the handler's token, when the handler is first called.</summary>
        public Task<CancellationToken> Entered => _entered.Task;

        public ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>> Calls { get; } = new();

        public ConcurrentQueue<EntityMigrated<OldCustomer, NewCustomer>> Delivered { get; } = new();

        public void Open() => _open.TrySetResult();

        public async ValueTask HandleAsync(
            EntityMigrated<OldCustomer, NewCustomer> migrated,
            CancellationToken cancellationToken
        )
        {
            Calls.Enqueue(migrated);
            _entered.TrySetResult(cancellationToken);
            await _open.Task.WaitAsync(cancellationToken);
            if (Failure is not null)
            {
                throw Failure;
            }

            Delivered.Enqueue(migrated);
        }
    }
}
