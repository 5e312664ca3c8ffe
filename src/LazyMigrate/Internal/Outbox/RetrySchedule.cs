namespace LazyMigrate.Internal;

/// <summary>
/// When a failed outbox item is due again: exponential backoff with jitter, stored with the item, so that however many
/// dispatchers run, an item is retried at the rate one would retry it.
/// </summary>
internal static class RetrySchedule
{
    /// <param name="attempt">The attempt that just failed, from 1.</param>
    /// <param name="first">The delay after the first failure.</param>
    /// <param name="max">The longest delay.</param>
    public static TimeSpan After(int attempt, TimeSpan first, TimeSpan max)
    {
        double exponential = first.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));

        // Jitter of +-20% spreads the retries of items that failed together (an old store that was down).
        double jittered = exponential * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, max.TotalMilliseconds));
    }
}
