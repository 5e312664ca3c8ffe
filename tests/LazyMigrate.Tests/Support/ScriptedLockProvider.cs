using System.Threading.Channels;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// A lock provider whose every acquire waits until the test answers it: grant, time out or fail. The test sees each
/// attempt (its key and the timeout it was given) in the order they come, so it can move a fake clock in between.
/// </summary>
public sealed class ScriptedLockProvider : IMigrationLockProvider
{
    private readonly Channel<Attempt> _attempts = Channel.CreateUnbounded<Attempt>();
    private int _count;

    /// <summary>Gets how many acquires were started.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Waits for the next acquire.</summary>
    public async Task<Attempt> NextAsync() =>
        await _attempts.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    /// <inheritdoc/>
    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => Start([key], timeout, cancellationToken);

    /// <summary>
    /// Starts an acquire of one key or of a batch (<see cref="ScriptedBatchLockProvider"/>), answered by the test.
    /// </summary>
    internal ValueTask<IMigrationLockHandle?> Start(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken
    )
    {
        Interlocked.Increment(ref _count);
        var attempt = new Attempt(keys, timeout);
        _attempts.Writer.TryWrite(attempt);
        return new(attempt.Answer.Task.WaitAsync(cancellationToken));
    }

    /// <summary>One acquire, waiting for its answer.</summary>
    public sealed class Attempt(IReadOnlyList<string> keys, TimeSpan timeout)
    {
        public IReadOnlyList<string> Keys { get; } = keys;

        public TimeSpan Timeout { get; } = timeout;

        internal TaskCompletionSource<IMigrationLockHandle?> Answer { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Grant() => Answer.SetResult(new Handle());

        public void TimeOut() => Answer.SetResult(null);

        public void FailTransiently() =>
            Answer.SetException(new TransientStoreException("the lock's connection broke"));
    }

    private sealed class Handle : IMigrationLockHandle
    {
        public CancellationToken HandleLostToken => CancellationToken.None;

        public ValueTask DisposeAsync() => default;
    }
}

/// <summary>The same scripted acquires, through a provider that takes a batch's keys at once.</summary>
public sealed class ScriptedBatchLockProvider(ScriptedLockProvider script) : IMigrationBatchLockProvider
{
    /// <inheritdoc/>
    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => script.TryAcquireAsync(key, timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => script.Start(keys, timeout, cancellationToken);
}
