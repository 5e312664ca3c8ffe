namespace LazyMigrate.CrashHost;

/// <summary>
/// The crash point: lets the first <c>pass</c> calls through and holds every later one for good (the process is killed
/// there); <see cref="Holding"/> completes once <c>hold</c> calls are held.
/// </summary>
internal sealed class CrashGate(int pass, int hold)
{
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;
    private int _held;

    /// <summary>A gate that never holds anything.</summary>
    public static CrashGate Open() => new(int.MaxValue, 1);

    public Task Holding => _holding.Task;

    public Task PassOrHoldAsync()
    {
        if (Interlocked.Increment(ref _calls) <= pass)
        {
            return Task.CompletedTask;
        }

        if (Interlocked.Increment(ref _held) == hold)
        {
            _holding.TrySetResult();
        }

        // Deaf to cancellation too: the call must still be in progress when the process dies.
        return _never.Task;
    }
}
