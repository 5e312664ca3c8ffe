namespace LazyMigrate.TestKit;

/// <summary>Waits for a condition another thread will make true, yielding between checks, within a bound.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException("The condition did not become true in time.");
            }

            await Task.Yield();
        }
    }
}
