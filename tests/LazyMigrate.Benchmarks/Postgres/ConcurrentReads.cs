namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>Reads every id once with a number of concurrent readers, each taking the next unread id.</summary>
internal static class ConcurrentReads
{
    /// <exception cref="InvalidOperationException">A read found nothing: every id must migrate.</exception>
    public static Task RunAsync(string[] ids, int concurrency, Func<string, Task<NewProfile?>> read) =>
        ConcurrentWork.RunAsync(
            ids.Length,
            concurrency,
            async i =>
            {
                if (await read(ids[i]) is null)
                {
                    throw new InvalidOperationException($"{ids[i]} was not found.");
                }
            }
        );
}
