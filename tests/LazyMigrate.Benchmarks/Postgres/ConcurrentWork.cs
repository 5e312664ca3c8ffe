namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>Runs items 0 to count - 1 once each with concurrent workers, each taking the next item.</summary>
internal static class ConcurrentWork
{
    public static Task RunAsync(int count, int concurrency, Func<int, Task> work)
    {
        int next = -1;
        return Task.WhenAll(
            Enumerable
                .Range(0, concurrency)
                .Select(_ =>
                    Task.Run(async () =>
                    {
                        for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                        {
                            await work(i);
                        }
                    })
                )
        );
    }
}
