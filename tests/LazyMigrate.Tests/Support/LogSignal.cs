using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// A logger provider that lets a test wait for a log event by name: the gate a test uses to know the code under test
/// has reached a point it announces (a backfill holding for a pause, a throttle or a rate limit).
/// </summary>
public sealed class LogSignal : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, int Count), TaskCompletionSource> _waits = new();

    /// <summary>Completes when the event has been logged <paramref name="count"/> times.</summary>
    public Task Logged(string eventName, int count = 1)
    {
        TaskCompletionSource wait = _waits.GetOrAdd(
            (eventName, count),
            _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
        );
        if (Count(eventName) >= count)
        {
            wait.TrySetResult();
        }

        return wait.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public int Count(string eventName) => _counts.GetValueOrDefault(eventName);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    private void Record(string eventName)
    {
        int count = _counts.AddOrUpdate(eventName, 1, (_, c) => c + 1);
        foreach (var ((name, wanted), wait) in _waits)
        {
            if (name == eventName && count >= wanted)
            {
                wait.TrySetResult();
            }
        }
    }

    private sealed class Logger(LogSignal signal) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (eventId.Name is { } name)
            {
                signal.Record(name);
            }
        }
    }
}
