using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// The crash tests' child process (tests/LazyMigrate.CrashHost), run with <c>dotnet</c>: waits for the
/// <c>READY &lt;point&gt;</c> line it prints at its crash point, collects the <c>EVENT &lt;id&gt; &lt;event id&gt;</c>
/// lines of the events it handled, and kills it with SIGKILL.
/// </summary>
internal sealed class CrashHostProcess : IDisposable
{
    /// <summary>How long the child may take to start and reach its crash point.</summary>
    private static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, Guid> _events = new(StringComparer.Ordinal);
    private readonly StringBuilder _errors = new();
    private readonly string _point;

    private CrashHostProcess(string point, IEnumerable<string> arguments)
    {
        _point = point;
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
        _ = FailReadyIfItExitsAsync();
    }

    /// <summary>The child's dll, as the build recorded it in this assembly.</summary>
    public static string HostPath =>
        typeof(CrashHostProcess)
            .Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "CrashHostPath")
            .Value
        ?? throw new InvalidOperationException("The build recorded no path of the crash host.");

    /// <summary>The events the child's handler was given before it died: entity id to event id.</summary>
    public IReadOnlyDictionary<string, Guid> Events => _events;

    /// <summary>Starts the child and returns once it printed <c>READY &lt;point&gt;</c>.</summary>
    public static async Task<CrashHostProcess> StartAtAsync(string point, IEnumerable<string> arguments)
    {
        var child = new CrashHostProcess(point, arguments);
        try
        {
            await child._ready.Task.WaitAsync(ReadyBound);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Kills the child with SIGKILL and returns, once it is gone, whether it was still running when the signal was
    /// sent: it was then killed at its crash point, since it never leaves that point on its own.
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
        }
        else if (words is ["READY", string point] && point == _point)
        {
            _ready.TrySetResult();
        }
    }

    private async Task FailReadyIfItExitsAsync()
    {
        // Waits for the end of the output too, so the error says everything the child wrote.
        await _process.WaitForExitAsync();
        string errors;
        lock (_errors)
        {
            errors = _errors.ToString();
        }

        _ready.TrySetException(
            new InvalidOperationException(
                $"The crash host exited with code {_process.ExitCode} before READY {_point}:{Environment.NewLine}"
                    + errors
            )
        );
    }
}
