using System.Diagnostics;
using System.Text.Json;
using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// One migration's dispatcher: claims due items into a lease, applies them (write-backs through
/// <see cref="WriteBackApplier{TOld, TNew}"/>, events through <see cref="EventDelivery{TOld, TNew}"/>) and completes
/// them, or stores the next attempt time, or dead-letters them after <see cref="OutboxOptions.MaxAttempts"/>. It holds
/// no transaction of the outbox while it writes the old store or calls handlers: the lease keeps other dispatchers off
/// its items, and a dispatcher that dies loses its items only until the lease ends.
/// </summary>
/// <remarks>
/// In one process, one drain runs at a time: the background drain a write wakes (<see cref="Wake"/>), the hosted loop
/// and <see cref="DrainAsync"/> take turns, so that a drain called by a test also waits for the background one.
/// </remarks>
internal sealed class MigrationDispatcher<TOld, TNew>
    : IMigrationDispatcher<TOld, TNew>,
        IOutboxDispatcherLoop,
        IAsyncDisposable
    where TOld : class
    where TNew : class
{
    private readonly MigrationContext<TOld, TNew> _context;
    private readonly WriteBackApplier<TOld, TNew>? _applier;
    private readonly ForwardSyncApplier<TOld, TNew> _forwardSync;
    private readonly EventDelivery<TOld, TNew> _events;
    private readonly OutboxOptions _options;
    private readonly string _owner;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private int _backgroundDrainScheduled;
    private volatile bool _loopRunning;

    public MigrationDispatcher(
        MigrationContext<TOld, TNew> context,
        WriteBackApplier<TOld, TNew>? applier,
        ForwardSyncApplier<TOld, TNew> forwardSync,
        EventDelivery<TOld, TNew> events
    )
    {
        _context = context;
        _applier = applier;
        _forwardSync = forwardSync;
        _events = events;
        _options = context.Outbox.Options;
        _owner =
            _options.DispatcherId
            ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..12]}";
    }

    public string MigrationName => _context.Name;

    private string Name => _context.Name;

    /// <summary>
    /// Called after a write recorded an intent: wakes the hosted loop, or else drains in the background, off the
    /// caller's path.
    /// </summary>
    public void Wake()
    {
        if (!_options.DispatchOnWrite)
        {
            return;
        }

        if (_loopRunning)
        {
            Signal();
            return;
        }

        if (!_stopping.IsCancellationRequested && Interlocked.CompareExchange(ref _backgroundDrainScheduled, 1, 0) == 0)
        {
            _ = Task.Run(BackgroundDrainAsync);
        }
    }

    public async ValueTask<int> DrainAsync(CancellationToken cancellationToken = default)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DrainInTurnAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    public async ValueTask<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = _context.TimeProvider.GetUtcNow();
        IReadOnlyList<OutboxItem> items = await _context
            .Stores.ClaimAsync(
                new OutboxClaim(Name, _owner, _options.BatchSize, now, now + _options.LeaseDuration),
                cancellationToken
            )
            .ConfigureAwait(false);
        if (items.Count == 0)
        {
            return 0;
        }

        using Activity? activity = MigrationActivity.StartDispatch(Name, items.Count);
        var completed = new List<OutboxItem>(items.Count);
        var skipped = new List<(OutboxItem Item, string Reason)>();
        List<OutboxItem> writeBacks = [.. items.Where(i => i.Kind == OutboxItemKind.WriteBack)];
        if (writeBacks.Count > 0)
        {
            await ApplyWriteBacksAsync(writeBacks, completed, skipped, cancellationToken).ConfigureAwait(false);
        }

        // After the write-backs: of two items of one entity in this batch, the loser is skipped whichever runs first,
        // since the winner is still in the outbox until the batch completes.
        List<OutboxItem> forwardSyncs = [.. items.Where(i => i.Kind == OutboxItemKind.ForwardSync)];
        if (forwardSyncs.Count > 0)
        {
            await ApplyForwardSyncsAsync(forwardSyncs, completed, skipped, cancellationToken).ConfigureAwait(false);
        }

        foreach (OutboxItem item in items)
        {
            if (item.Kind == OutboxItemKind.EntityMigrated)
            {
                await DeliverAsync(item, completed, cancellationToken).ConfigureAwait(false);
            }
            else if (item.Kind is not (OutboxItemKind.WriteBack or OutboxItemKind.ForwardSync))
            {
                await FailAsync(item, new NotSupportedException($"Outbox item kind {item.Kind} is unknown."))
                    .ConfigureAwait(false);
            }
        }

        await CompleteAsync(completed, skipped).ConfigureAwait(false);
        return items.Count;
    }

    public async ValueTask<OutboxStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        OutboxStatistics statistics = await _context
            .Stores.OutboxStatisticsAsync(cancellationToken)
            .ConfigureAwait(false);
        _context.Metrics.OutboxObserved(Name, statistics, _context.TimeProvider.GetUtcNow());
        return statistics;
    }

    public ValueTask<IReadOnlyList<OutboxItem>> GetDeadLettersAsync(
        int limit = 100,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return _context.Stores.ListDeadLettersAsync(limit, cancellationToken);
    }

    public async ValueTask<int> ReplayDeadLettersAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    )
    {
        ThrowIfAnyInvalid(entityIds);
        int replayed = await _context
            .Stores.ReplayDeadLettersAsync(entityIds, _context.TimeProvider.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
        Log.OutboxDeadLettersReplayed(_context.Logger, Name, replayed);
        if (replayed > 0)
        {
            Wake();
        }

        return replayed;
    }

    public ValueTask<int> PurgeDeadLettersAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    )
    {
        ThrowIfAnyInvalid(entityIds);
        return _context.Stores.PurgeDeadLettersAsync(entityIds, cancellationToken);
    }

    /// <summary>
    /// Checks the ids of a dead-letter call as the repository checks its own, before the outbox sees any: an id no
    /// store can key on would otherwise fail in the outbox's driver, as an error that names nothing.
    /// </summary>
    private static void ThrowIfAnyInvalid(IReadOnlyCollection<string>? entityIds)
    {
        if (entityIds is null)
        {
            return;
        }

        foreach (string id in entityIds)
        {
            EntityIds.ThrowIfInvalid(id, nameof(entityIds));
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _loopRunning = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DrainAsync(stoppingToken).ConfigureAwait(false);
                    await GetStatisticsAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    // The outbox may be down: the loop polls again, and leases keep the items safe meanwhile.
                    Log.OutboxDispatchFailed(_context.Logger, Name, exception);
                }

                await WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _loopRunning = false;
        }
    }

    private async Task BackgroundDrainAsync()
    {
        try
        {
            await _turn.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                // Reset before draining: a write from now on schedules another drain, so none is missed.
                Volatile.Write(ref _backgroundDrainScheduled, 0);
                await DrainInTurnAsync(_stopping.Token).ConfigureAwait(false);
            }
            finally
            {
                _turn.Release();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The container is being disposed: what is left stays in the outbox, leased until the leases end.
        }
        catch (Exception exception)
        {
            Log.OutboxDispatchFailed(_context.Logger, Name, exception);
        }
    }

    /// <summary>
    /// Stops the background drain with the container and waits for the batch in progress, so that no drain outlives
    /// the stores it writes.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _turn.WaitAsync().ConfigureAwait(false);
        _turn.Release();
    }

    /// <summary>Stops the background drain without waiting for the batch in progress.</summary>
    public void Stop() => _stopping.Cancel();

    private async Task<int> DrainInTurnAsync(CancellationToken cancellationToken)
    {
        int total = 0;
        int claimed;
        while ((claimed = await RunOnceAsync(cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += claimed;
        }

        return total;
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Task delay = Task.Delay(_options.PollInterval, _context.TimeProvider, poll.Token);
        Task woken = _wake.WaitAsync(poll.Token);
        await Task.WhenAny(delay, woken).ConfigureAwait(false);
        await poll.CancelAsync().ConfigureAwait(false);

        // Observe the loser's cancellation, so that no task fails unobserved.
        await Task.WhenAll(delay, woken).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private void Signal()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: one wake covers every write before the next drain.
        }
    }

    private async Task ApplyWriteBacksAsync(
        List<OutboxItem> items,
        List<OutboxItem> completed,
        List<(OutboxItem Item, string Reason)> skipped,
        CancellationToken cancellationToken
    )
    {
        if (_applier is null)
        {
            foreach (OutboxItem item in items)
            {
                await FailAsync(
                        item,
                        new InvalidOperationException(
                            "The migration has no reverse mapper or merger to write entities back with."
                        )
                    )
                    .ConfigureAwait(false);
            }

            return;
        }

        ApplyResult result = await _applier
            .ApplyAsync([.. items.Select(i => i.EntityId)], _options.MaxParallelWrites, cancellationToken)
            .ConfigureAwait(false);
        await SettleAsync(items, result, completed, skipped).ConfigureAwait(false);
    }

    private async Task ApplyForwardSyncsAsync(
        List<OutboxItem> items,
        List<OutboxItem> completed,
        List<(OutboxItem Item, string Reason)> skipped,
        CancellationToken cancellationToken
    )
    {
        if (!_context.Options.ForwardSync)
        {
            // Applied without the option, a forward sync could race a save the lock does not cover, and a write-back
            // would not know it lost: each item fails (and is dead-lettered in the end) until the option is on.
            var off = new InvalidOperationException(
                $"Migration '{Name}' has forward sync off: set LazyMigrationOptions.ForwardSync to apply writes "
                    + "made through the old API."
            );
            foreach (OutboxItem item in items)
            {
                await FailAsync(item, off).ConfigureAwait(false);
            }

            return;
        }

        ApplyResult result = await _forwardSync
            .ApplyAsync([.. items.Select(i => i.EntityId)], _options.MaxParallelWrites, cancellationToken)
            .ConfigureAwait(false);
        await SettleAsync(items, result, completed, skipped).ConfigureAwait(false);
    }

    /// <summary>Sorts applied items by what happened: failed (retried), skipped or applied (both completed).</summary>
    private async Task SettleAsync(
        List<OutboxItem> items,
        ApplyResult result,
        List<OutboxItem> completed,
        List<(OutboxItem Item, string Reason)> skipped
    )
    {
        foreach (OutboxItem item in items)
        {
            if (result.Failures.TryGetValue(item.EntityId, out Exception? failure))
            {
                await FailAsync(item, failure).ConfigureAwait(false);
                continue;
            }

            if (result.Skipped.TryGetValue(item.EntityId, out string? reason))
            {
                skipped.Add((item, reason));
                Log.OutboxItemSkipped(_context.Logger, Name, item.Kind, item.EntityId, reason);
            }

            completed.Add(item);
        }
    }

    private async Task DeliverAsync(OutboxItem item, List<OutboxItem> completed, CancellationToken cancellationToken)
    {
        EventPayload<TOld, TNew> payload;
        try
        {
            payload = EventPayload<TOld, TNew>.FromJson(item.Payload, _context.Outbox.SerializerOptions);
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException)
        {
            await FailAsync(item, exception).ConfigureAwait(false);
            return;
        }

        var migrated = new EntityMigrated<TOld, TNew>(
            EntityMigratedEventId.For(Name, item.EntityId),
            Name,
            item.EntityId,
            payload.Old,
            payload.New,
            payload.Trigger,
            payload.MigratedAt
        );
        Exception? failure = await _events
            .DeliverAsync(migrated, _options.HandlerTimeout, cancellationToken)
            .ConfigureAwait(false);
        if (failure is null)
        {
            completed.Add(item);
            return;
        }

        Log.HandlerFailed(_context.Logger, Name, item.EntityId, failure);
        _context.Metrics.Failure(Name, FailureKinds.Handler);
        await FailAsync(item, failure).ConfigureAwait(false);
    }

    /// <summary>
    /// A failed attempt: the next one is stored with the item, or the item is dead-lettered after its last. If the
    /// outbox cannot take that, the item comes back when its lease ends, the attempt uncounted.
    /// </summary>
    private async Task FailAsync(OutboxItem item, Exception failure)
    {
        int attempt = item.Attempts + 1;
        string error = Describe(failure);
        try
        {
            if (attempt >= _options.MaxAttempts)
            {
                await _context.Stores.DeadLetterAsync(item, error, CancellationToken.None).ConfigureAwait(false);
                _context.Metrics.OutboxDeadLettered(Name, item.Kind);
                Log.OutboxItemDeadLettered(_context.Logger, Name, item.Kind, item.EntityId, attempt, failure);
                return;
            }

            DateTimeOffset next =
                _context.TimeProvider.GetUtcNow()
                + RetrySchedule.After(attempt, _options.RetryDelay, _options.MaxRetryDelay);
            await _context.Stores.RescheduleAsync(item, next, error, CancellationToken.None).ConfigureAwait(false);
            _context.Metrics.OutboxRetried(Name, item.Kind);
            Log.OutboxItemRetried(_context.Logger, Name, item.Kind, item.EntityId, attempt, next, failure);
        }
        catch (MigrationStoreException exception)
        {
            Log.OutboxDispatchFailed(_context.Logger, Name, exception);
        }
    }

    /// <summary>Completes the batch's items, then counts those applied and those skipped.</summary>
    private async Task CompleteAsync(List<OutboxItem> completed, List<(OutboxItem Item, string Reason)> skipped)
    {
        if (completed.Count == 0)
        {
            return;
        }

        try
        {
            await _context.Stores.CompleteAsync(completed, CancellationToken.None).ConfigureAwait(false);
        }
        catch (MigrationStoreException exception)
        {
            // Applied but not completed: applied again when the leases end, which converges (state-based).
            Log.OutboxDispatchFailed(_context.Logger, Name, exception);
            return;
        }

        var skippedItems = skipped.Select(s => s.Item).ToHashSet();
        foreach (var kind in completed.Where(i => !skippedItems.Contains(i)).GroupBy(i => i.Kind))
        {
            _context.Metrics.OutboxApplied(Name, kind.Key, kind.Count());
        }

        foreach (var group in skipped.GroupBy(s => (s.Item.Kind, s.Reason)))
        {
            _context.Metrics.OutboxSkipped(Name, group.Key.Kind, group.Key.Reason, group.Count());
        }
    }

    /// <summary>The error stored with an item: types and messages of the chain, bounded, never a payload.</summary>
    private static string Describe(Exception failure)
    {
        string text = failure.InnerException is { } inner
            ? $"{failure.GetType().Name}: {failure.Message} ({inner.GetType().Name}: {inner.Message})"
            : $"{failure.GetType().Name}: {failure.Message}";
        return text.Length <= 2000 ? text : text[..2000];
    }
}
