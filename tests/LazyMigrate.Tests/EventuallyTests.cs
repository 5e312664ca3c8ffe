using LazyMigrate.TestKit;

namespace LazyMigrate.Tests;

/// <summary>
/// The test kit's bounded wait checks its condition every few milliseconds, not in a busy loop that would take a core
/// from the thread it waits for, and fails with what it waited for.
/// </summary>
public sealed class EventuallyTests
{
    [Fact]
    public async Task TrueAsync_OnAConditionThatStaysFalse_ChecksEveryFewMilliseconds_ThenThrowsSayingWhat()
    {
        int checks = 0;
        TimeSpan bound = TimeSpan.FromMilliseconds(300);

        var failure = await Assert.ThrowsAsync<TimeoutException>(() =>
            Eventually.TrueAsync(
                () =>
                {
                    Interlocked.Increment(ref checks);
                    return false;
                },
                bound,
                "The never-true condition"
            )
        );

        // One check every PollInterval (10 ms), plus the first and the last: about 32 (at most twice that, for timer
        // slack); a busy loop makes hundreds of thousands.
        Assert.InRange(checks, 2, 2 * (int)(bound / Eventually.PollInterval));
        Assert.StartsWith("The never-true condition did not become true", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrueAsync_ReturnsOnceAnotherThreadMakesTheConditionTrue()
    {
        var set = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int checks = 0;

        Task waiting = Eventually.TrueAsync(() => Interlocked.Increment(ref checks) > 1 && set.Task.IsCompleted);
        await Eventually.TrueAsync(() => Volatile.Read(ref checks) > 1);
        Assert.False(waiting.IsCompleted);
        set.SetResult();

        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
