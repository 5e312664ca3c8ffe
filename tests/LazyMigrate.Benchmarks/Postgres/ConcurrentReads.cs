namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>Reads every id once with a number of concurrent readers, each taking the next unread id.</summary>
internal static class ConcurrentReads
{
    /// <exception cref="InvalidOperationException">A read found nothing: every id must migrate.</exception>
    public static Task RunAsync(string[] ids, int concurrency, Func<string, Task<NewProfile?>> read)
    {
        int next = -1;
        return Task.WhenAll(
            Enumerable
                .Range(0, concurrency)
                .Select(_ =>
                    Task.Run(async () =>
                    {
                        for (
                            int i = Interlocked.Increment(ref next);
                            i < ids.Length;
                            i = Interlocked.Increment(ref next)
                        )
                        {
                            if (await read(ids[i]) is null)
                            {
                                throw new InvalidOperationException($"{ids[i]} was not found.");
                            }
                        }
                    })
                )
        );
    }
}
