using System.Collections.Concurrent;
using System.Diagnostics;

namespace LazyMigrate.Internal;

/// <summary>
/// Runs at most one piece of work per key at a time in this process; callers asking for a key already in flight wait
/// for that work instead of starting their own. Work for several keys runs as one group (one batched migration).
/// </summary>
/// <remarks>
/// <para>
/// A group runs under its own cancellation token, not a caller's: a caller that gives up stops waiting, and the group
/// is cancelled only when every caller waiting on it has given up.
/// </para>
/// <para>
/// A group keeps the trace of the caller that started it (<see cref="FlightTrace"/>). A caller with an activity that
/// waits on groups others started records a <c>LazyMigrate join</c> span linked to theirs: their spans exist once,
/// in the starter's trace, and a link is how OpenTelemetry ties work shared by several traces.
/// </para>
/// </remarks>
/// <param name="migration">The migration name, for the join span.</param>
/// <param name="failureOf">
/// The failure a result carries, or null. Typed failures travel as results and never fault a flight, so the join span
/// learns of them from here.
/// </param>
internal sealed class SingleFlight<TResult>(string migration, Func<TResult, Exception?> failureOf)
{
    /// <summary>Computes a result for every key it is given, under the group's trace and cancellation.</summary>
    public delegate Task<IReadOnlyDictionary<string, TResult>> FlightWork<in TState>(
        TState state,
        IReadOnlyList<string> keys,
        FlightTrace trace,
        CancellationToken cancellationToken
    );

    /// <summary>An execution context without any AsyncLocal value, captured once on a thread that has none.</summary>
    private static readonly ExecutionContext EmptyContext = CaptureEmptyContext();

    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    /// <summary>Joins the flights of keys already in flight and starts one group of work for the others.</summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="state">State passed to <paramref name="work"/>.</param>
    /// <param name="work">Computes a result for every key it is given, in the trace it is given.</param>
    /// <param name="cancellationToken">Cancels this caller's wait only.</param>
    public async Task<IReadOnlyDictionary<string, TResult>> RunAsync<TState>(
        IReadOnlyList<string> keys,
        TState state,
        FlightWork<TState> work,
        CancellationToken cancellationToken
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        var joined = new List<KeyValuePair<string, Flight>>(keys.Count);
        var groups = new HashSet<FlightGroup>();
        FlightGroup? started = null;
        List<KeyValuePair<string, Flight>>? startedFlights = null;

        foreach (string key in keys)
        {
            while (true)
            {
                if (_flights.TryGetValue(key, out Flight? existing))
                {
                    if (groups.Contains(existing.Group) || existing.Group.TryAddWaiter())
                    {
                        groups.Add(existing.Group);
                        joined.Add(new(key, existing));
                        break;
                    }

                    // Every waiter of that flight gave up and it is being cancelled: replace it.
                    _flights.TryRemove(new KeyValuePair<string, Flight>(key, existing));
                    continue;
                }

                // The work's span is a child of this caller's activity, which the empty context below cannot carry.
                started ??= new FlightGroup(new FlightTrace(Activity.Current?.Context ?? default));
                var flight = new Flight(started);
                if (_flights.TryAdd(key, flight))
                {
                    groups.Add(started);
                    joined.Add(new(key, flight));
                    (startedFlights ??= []).Add(new(key, flight));
                    break;
                }
            }
        }

        Task? startedWork = null;
        if (started is not null && startedFlights is not null)
        {
            // The work is shared, so it must not run in the first caller's execution context: its AsyncLocals (an
            // ambient transaction, say) would leak into a result every waiter gets. It starts inline, without a hop to
            // the thread pool, in an empty context that its continuations then carry. Only the caller's activity goes
            // in, by hand, as the parent of the work's span (FlightTrace).
            var start = new StartedWork<TState>(this, started, startedFlights, state, work);
            ExecutionContext.Run(EmptyContext, static s => ((StartedWork<TState>)s!).Start(), start);
            startedWork = start.Task;
        }

        // Time spent waiting on others' work shows in this caller's trace; nothing to record without an activity.
        bool joinsOthers =
            groups.Count > (started is null ? 0 : 1)
            && Activity.Current is not null
            && MigrationActivity.Source.HasListeners();
        // Span times are real time, never the migration's clock: a fake or shifted clock would misplace the span in its
        // trace.
        DateTimeOffset since = joinsOthers ? TimeProvider.System.GetUtcNow() : default;
        try
        {
            // A caller that waits on its own work alone continues straight from that work's end, which never faults:
            // the flights' completions resume callers asynchronously, which would cost it a thread-pool hop. Then the
            // flights (complete by then) give its results or the failure.
            if (startedWork is not null && groups.Count == 1)
            {
                await startedWork.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            await WhenAll(joined).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                foreach (FlightGroup group in groups)
                {
                    group.RemoveWaiter();
                }
            }

            if (joinsOthers)
            {
                RecordJoin(joined, started, since, exception);
            }

            throw;
        }

        if (joinsOthers)
        {
            RecordJoin(joined, started, since, failure: null);
        }

        var results = new Dictionary<string, TResult>(joined.Count, StringComparer.Ordinal);
        foreach (var (key, flight) in joined)
        {
            results[key] = flight.Completion.Task.Result;
        }

        return results;
    }

    private static ExecutionContext CaptureEmptyContext()
    {
        // A thread started with flow suppressed runs in the default, empty context. A dedicated thread, not the thread
        // pool: a type initializer must not wait on a pool that its own callers may be starving.
        ExecutionContext? empty = null;
        using (ExecutionContext.SuppressFlow())
        {
            var capture = new Thread(() => empty = ExecutionContext.Capture())
            {
                IsBackground = true,
                Name = "LazyMigrate context capture",
            };
            capture.Start();
            capture.Join();
        }

        return empty ?? throw new InvalidOperationException("Could not capture an empty execution context.");
    }

    private void RecordJoin(
        List<KeyValuePair<string, Flight>> joined,
        FlightGroup? started,
        DateTimeOffset since,
        Exception? failure
    )
    {
        var keys = new List<string>(joined.Count);
        var spans = new HashSet<Activity>();
        foreach (var (key, flight) in joined)
        {
            if (flight.Group != started)
            {
                keys.Add(key);
                failure ??= flight.Completion.Task.IsCompletedSuccessfully
                    ? failureOf(flight.Completion.Task.Result)
                    : null;
                if (flight.Group.Trace.Span is { } span)
                {
                    spans.Add(span);
                }
            }
        }

        List<ActivityLink> links = spans.Select(s => new ActivityLink(s.Context)).ToList();
        MigrationActivity.RecordJoin(migration, keys, links, since, TimeProvider.System.GetUtcNow(), failure);
    }

    private static Task WhenAll(List<KeyValuePair<string, Flight>> flights) =>
        flights.Count == 1
            ? flights[0].Value.Completion.Task
            : Task.WhenAll(flights.Select(f => f.Value.Completion.Task));

    private async Task RunGroupAsync<TState>(
        FlightGroup group,
        List<KeyValuePair<string, Flight>> flights,
        TState state,
        FlightWork<TState> work
    )
    {
        IReadOnlyDictionary<string, TResult>? results = null;
        Exception? failure = null;
        try
        {
            results = await work(state, flights.ConvertAll(f => f.Key), group.Trace, group.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        group.Complete();
        foreach (var (key, flight) in flights)
        {
            // Leave the map first: a caller arriving after this starts fresh and sees the stores' new state.
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            if (failure is OperationCanceledException && group.Token.IsCancellationRequested)
            {
                flight.Completion.TrySetCanceled();
            }
            else if (failure is not null)
            {
                flight.Completion.TrySetException(failure);
            }
            else if (results!.TryGetValue(key, out TResult? result))
            {
                flight.Completion.TrySetResult(result);
            }
            else
            {
                flight.Completion.TrySetException(
                    new InvalidOperationException($"The work of a flight returned no result for key '{key}'.")
                );
            }
        }
    }

    /// <summary>The start of a group's work, run inside the empty execution context.</summary>
    private sealed class StartedWork<TState>(
        SingleFlight<TResult> owner,
        FlightGroup group,
        List<KeyValuePair<string, Flight>> flights,
        TState state,
        FlightWork<TState> work
    )
    {
        /// <summary>
        /// Gets the work's task, which ends once every flight of the group has its outcome; it never faults.
        /// </summary>
        public Task? Task { get; private set; }

        public void Start() => Task = owner.RunGroupAsync(group, flights, state, work);
    }

    private sealed class Flight(FlightGroup group)
    {
        public FlightGroup Group { get; } = group;

        public TaskCompletionSource<TResult> Completion { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The shared cancellation of one group of work and the count of callers still waiting on it.</summary>
    private sealed class FlightGroup(FlightTrace trace)
    {
        // Never disposed: it has no timer, so there is nothing to free, and a late Cancel must not meet a disposed
        // source.
        private readonly CancellationTokenSource _cancellation = new();
        private readonly object _gate = new();
        private int _waiters = 1;
        private bool _abandoned;
        private bool _completed;

        public CancellationToken Token => _cancellation.Token;

        public FlightTrace Trace { get; } = trace;

        public bool TryAddWaiter()
        {
            lock (_gate)
            {
                if (_abandoned)
                {
                    return false;
                }

                _waiters++;
                return true;
            }
        }

        public void RemoveWaiter()
        {
            lock (_gate)
            {
                if (--_waiters > 0 || _completed)
                {
                    return;
                }

                _abandoned = true;
            }

            _cancellation.Cancel();
        }

        public void Complete()
        {
            lock (_gate)
            {
                _completed = true;
            }
        }
    }
}
