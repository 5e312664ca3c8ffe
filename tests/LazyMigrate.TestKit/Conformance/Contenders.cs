namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Runs workers that all start at once and each take a lock some rounds in a row, counting how often two held a lock
/// at the same time: for locks that must exclude each other, that count must stay 0.
/// </summary>
public static class Contenders
{
    /// <summary>
    /// Runs the workers; <paramref name="acquire"/> takes a worker's lock and returns its handle (null: timed out).
    /// </summary>
    /// <returns>How many acquisitions overlapped another, and how many succeeded.</returns>
    public static async Task<(int Overlaps, int Acquisitions)> RunAsync(
        int workers,
        int rounds,
        Func<int, Task<IAsyncDisposable?>> acquire
    )
    {
        int holders = 0;
        int overlaps = 0;
        int[] acquired = await StartingGate
            .RunAsync(
                workers,
                async worker =>
                {
                    int count = 0;
                    for (int round = 0; round < rounds; round++)
                    {
                        IAsyncDisposable? held = await acquire(worker);
                        Assert.NotNull(held);
                        await using (held)
                        {
                            if (Interlocked.Increment(ref holders) > 1)
                            {
                                Interlocked.Increment(ref overlaps);
                            }

                            count++;
                            await Task.Yield();
                            Interlocked.Decrement(ref holders);
                        }
                    }

                    return count;
                }
            )
            .WaitAsync(TimeSpan.FromMinutes(1));

        return (overlaps, acquired.Sum());
    }
}
