using LazyMigrate.Backfill;

namespace LazyMigrate.Tests.Support;

/// <summary>A throttle that runs a test's code before each batch: to hold it, or to act after its scan.</summary>
public sealed class DelegateBackfillThrottle(Func<CancellationToken, Task<TimeSpan>> ask) : IBackfillThrottle
{
    public async ValueTask<TimeSpan> GetDelayAsync(
        BackfillThrottleContext context,
        CancellationToken cancellationToken
    ) => await ask(cancellationToken);
}
