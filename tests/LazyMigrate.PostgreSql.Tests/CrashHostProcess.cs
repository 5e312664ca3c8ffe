using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The crash tests' child process (tests/LazyMigrate.CrashHost), run with <c>dotnet</c>: waits for the lines it
/// prints (<c>READY &lt;point&gt;</c> at a crash point, a backfill's <c>PROGRESS</c> and <c>DONE</c>), collects the
/// <c>EVENT &lt;id&gt; &lt;event id&gt;</c> lines of the events it handled, and kills it with SIGKILL.
/// </summary>
internal sealed class CrashHostProcess : IDisposable
{
    /// <summary>How long the child may take to start and print a line it is waited for.</summary>
    private static readonly TimeSpan LineBound = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly ConcurrentDictionary<string, Guid> _events = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Id, Guid EventId)> _everyEvent = new();
    private readonly List<(Func<string[], bool> Match, TaskCompletionSource<string[]> Seen)> _waiters = [];
    private readonly StringBuilder _errors = new();
    private bool _exited;

    private CrashHostProcess(string point, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostPath);
        start.ArgumentList.Add(point);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _ = FailWaitersOnceItExitsAsync();
    }

    /// <summary>The child's dll, as the build recorded it in this assembly.</summary>
    public static string HostPath => BuiltProgram.PathOf(typeof(CrashHostProcess), "CrashHostPath");

    /// <summary>The events the child's handler was given before it died: entity id to event id.</summary>
    public IReadOnlyDictionary<string, Guid> Events => _events;

    /// <summary>Every event line the child printed, in order, repeats included.</summary>
    public IReadOnlyCollection<(string Id, Guid EventId)> EveryEvent => _everyEvent;

    /// <summary>Starts the child and returns once it printed <c>READY &lt;point&gt;</c>.</summary>
    public static async Task<CrashHostProcess> StartAtAsync(string point, IEnumerable<string> arguments)
    {
        var child = new CrashHostProcess(point, arguments);
        try
        {
            await child.WaitForAsync(words => words is ["READY", string ready] && ready == point);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Starts the child running <paramref name="point"/>, without waiting for anything.</summary>
    public static CrashHostProcess Start(string point, IEnumerable<string> arguments) => new(point, arguments);

    /// <summary>
    /// Returns the words of the first line from now on that <paramref name="match"/> accepts; fails if the child
    /// exits first, with what it wrote to standard error.
    /// </summary>
    public Task<string[]> WaitForAsync(Func<string[], bool> match)
    {
        var seen = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (_exited)
            {
                seen.SetException(ExitedError());
            }
            else
            {
                _waiters.Add((match, seen));
            }
        }

        return seen.Task.WaitAsync(LineBound);
    }

    /// <summary>
    /// Kills the child with SIGKILL and returns, once it is gone, whether it was still running when the signal was
    /// sent: it was then killed where the test meant to, since it never leaves that point on its own.
    /// </summary>
    /// <remarks>
    /// The exit code is not the proof: it read 0 once in CI for a child killed here. The status .NET reaps on SIGCHLD
    /// can be taken first by another reaper; a process that inherited SIGCHLD ignored, for one, makes .NET reap every
    /// child with <c>waitpid(-1)</c> too.
    /// </remarks>
    public async Task<bool> KillAsync()
    {
        bool wasRunning = !_process.HasExited;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        return wasRunning;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnOutput(string? line)
    {
        string[] words = line?.Split(' ') ?? [];
        if (words is ["EVENT", string id, string eventId])
        {
            _events[id] = Guid.Parse(eventId);
            _everyEvent.Enqueue((id, Guid.Parse(eventId)));
        }

        lock (_waiters)
        {
            foreach (var waiter in _waiters.Where(w => w.Match(words)).ToList())
            {
                waiter.Seen.TrySetResult(words);
                _waiters.Remove(waiter);
            }
        }
    }

    private async Task FailWaitersOnceItExitsAsync()
    {
        // Waits for the end of the output too, so the error says everything the child wrote.
        await _process.WaitForExitAsync();
        lock (_waiters)
        {
            _exited = true;
            foreach (var waiter in _waiters)
            {
                waiter.Seen.TrySetException(ExitedError());
            }

            _waiters.Clear();
        }
    }

    private InvalidOperationException ExitedError()
    {
        lock (_errors)
        {
            return new InvalidOperationException(
                $"The crash host exited with code {_process.ExitCode} before the line awaited:{Environment.NewLine}"
                    + _errors
            );
        }
    }
}
