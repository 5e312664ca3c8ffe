namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Runs workers that all start at once and each take a lock some rounds in a row, counting how often two held a lock
/// at the same time: for locks that must exclude each other, that count must stay 0. The contention is certain, not
/// left to luck: each worker first tries its lock without waiting and, refused, counts as waiting before it waits; a
/// holder keeps its lock until another worker waits (or, when the lock is broken, holds it too), as long as another
/// worker has rounds left.
/// </summary>
public static class Contenders
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs the workers; <paramref name="acquire"/> takes a worker's lock, waiting at most the time it is given
    /// (<see cref="TimeSpan.Zero"/>: a single try), and returns its handle (null: not granted).
    /// </summary>
    /// <returns>How many acquisitions overlapped another, how many succeeded, and how many were held until another
    /// worker was known to wait for the lock.</returns>
    public static async Task<(int Overlaps, int Acquisitions, int Contended)> RunAsync(
        int workers,
        int rounds,
        Func<int, TimeSpan, Task<IAsyncDisposable?>> acquire
    )
    {
        var run = new Run(workers, rounds);
        int[] acquired = await StartingGate
            .RunAsync(workers, worker => run.WorkAsync(worker, acquire))
            .WaitAsync(TimeSpan.FromMinutes(2));

        return (run.Overlaps, acquired.Sum(), run.Contended);
    }

    private sealed class Run(int workers, int rounds)
    {
        private readonly int[] _left = [.. Enumerable.Repeat(rounds, workers)];
        private TaskCompletionSource _changed = NewSignal();
        private int _holders;
        private int _waiting;
        private int _overlaps;
        private int _contended;

        public int Overlaps => Volatile.Read(ref _overlaps);

        public int Contended => Volatile.Read(ref _contended);

        public async Task<int> WorkAsync(int worker, Func<int, TimeSpan, Task<IAsyncDisposable?>> acquire)
        {
            int count = 0;
            for (int round = 0; round < rounds; round++)
            {
                IAsyncDisposable? held = await acquire(worker, TimeSpan.Zero);
                if (held is null)
                {
                    Interlocked.Increment(ref _waiting);
                    Pulse();
                    try
                    {
                        held = await acquire(worker, Patience);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _waiting);
                    }
                }

                Interlocked.Decrement(ref _left[worker]);
                Assert.NotNull(held);
                await using (held)
                {
                    if (Interlocked.Increment(ref _holders) > 1)
                    {
                        Interlocked.Increment(ref _overlaps);
                        Pulse();
                    }

                    count++;
                    if (OthersHaveRoundsLeft(worker))
                    {
                        await UntilAnotherWaitsOrOverlapsAsync().WaitAsync(Patience);
                    }

                    Interlocked.Decrement(ref _holders);
                }
            }

            return count;
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Wakes the holder: a worker started waiting, or an overlap happened.</summary>
        private void Pulse() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

        private bool OthersHaveRoundsLeft(int worker)
        {
            for (int other = 0; other < _left.Length; other++)
            {
                if (other != worker && Volatile.Read(ref _left[other]) > 0)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Returns once another worker was refused and waits (counted as contended), or an overlap was seen: a broken
        /// lock lets the other worker in instead of making it wait.
        /// </summary>
        private async Task UntilAnotherWaitsOrOverlapsAsync()
        {
            while (true)
            {
                Task changed = Volatile.Read(ref _changed).Task;
                if (Volatile.Read(ref _waiting) > 0)
                {
                    Interlocked.Increment(ref _contended);
                    return;
                }

                if (Volatile.Read(ref _overlaps) > 0)
                {
                    return;
                }

                await changed;
            }
        }
    }
}
