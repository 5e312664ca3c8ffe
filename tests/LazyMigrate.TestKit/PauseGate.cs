namespace LazyMigrate.TestKit;

/// <summary>
/// A point where calls stop until a test lets them go: <see cref="Reached"/> completes when the first call arrives,
/// and every call waits there until <see cref="Release"/> (or its own token) ends the pause. Lets a test act in the
/// middle of a migration.
/// </summary>
public sealed class PauseGate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cancelledPauses;

    /// <summary>Gets a task that completes when a call has reached the gate.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Gets a task that completes when a paused call is cancelled through its token.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>Gets the number of paused calls that ended because their token was cancelled.</summary>
    public int CancelledPauses => Volatile.Read(ref _cancelledPauses);

    /// <summary>Lets every paused call, and every later one, through.</summary>
    public void Release() => _open.TrySetResult();

    /// <summary>Signals <see cref="Reached"/>, then waits for <see cref="Release"/>.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        _reached.TrySetResult();
        try
        {
            await _open.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelledPauses);
            _cancelled.TrySetResult();
            throw;
        }
    }
}
