namespace LazyMigrate.TestKit;

/// <summary>
/// Waits for a condition another thread or process will make true, checking it every few milliseconds (a short
/// delay, not a busy loop that would starve the thread it waits for on two cores), within a bound. Prefer a signal
/// (a <see cref="TaskCompletionSource"/>) where the code under test can give one; this is for state only a query can
/// see, such as a server's view of who waits for a lock.
/// </summary>
public static class Eventually
{
    /// <summary>The time between two checks.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>The bound used when the caller gives none.</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Returns once <paramref name="condition"/> is true; throws when it is still false after the bound.
    /// </summary>
    /// <param name="condition">The condition, checked at once and then every <see cref="PollInterval"/>.</param>
    /// <param name="within">The bound; <see cref="DefaultBound"/> when null.</param>
    /// <param name="what">What the condition means, for the failure message.</param>
    /// <exception cref="TimeoutException">The condition stayed false for the whole bound.</exception>
    public static Task TrueAsync(Func<bool> condition, TimeSpan? within = null, string? what = null) =>
        TrueAsync(() => Task.FromResult(condition()), within, what);

    /// <summary>
    /// Returns once <paramref name="condition"/> completes with true; throws when it is still false after the bound.
    /// </summary>
    /// <param name="condition">The condition, such as a query, run at once and then every <see cref="PollInterval"/>.
    /// </param>
    /// <param name="within">The bound; <see cref="DefaultBound"/> when null.</param>
    /// <param name="what">What the condition means, for the failure message.</param>
    /// <exception cref="TimeoutException">The condition stayed false for the whole bound.</exception>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? what = null)
    {
        TimeSpan bound = within ?? DefaultBound;
        using var timeout = new CancellationTokenSource(bound);
        while (!await condition())
        {
            try
            {
                await Task.Delay(PollInterval, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                if (await condition())
                {
                    return;
                }

                throw new TimeoutException(
                    $"{what ?? "The condition"} did not become true within {bound.TotalSeconds:0.###} s."
                );
            }
        }
    }
}
