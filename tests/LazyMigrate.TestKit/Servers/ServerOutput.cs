using System.Diagnostics;
using System.Text;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// Keeps the tail of what a server process prints, so that a server that fails to start can say why. Only the tail is
/// kept: a server that runs for the whole test run must not grow the test host's memory.
/// </summary>
internal sealed class ServerOutput
{
    private const int MaxChars = 64 * 1024;

    private readonly object _gate = new();
    private readonly StringBuilder _text = new();
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _readyLine;
    private int _openStreams = 2;

    /// <summary>
    /// Gets a task that completes with <see langword="true"/> once the process printed the line given to
    /// <see cref="Follow"/> (a server saying it accepts connections), or with <see langword="false"/> once it closed
    /// both its outputs without printing it (it exited).
    /// </summary>
    public Task<bool> Ready => _ready.Task;

    /// <summary>
    /// Starts copying a process's standard output and error into this buffer; call right after the process started.
    /// </summary>
    /// <param name="process">The process.</param>
    /// <param name="readyLine">Text that a line of the process's output holds once it is ready (<see cref="Ready"/>).
    /// </param>
    public void Follow(Process process, string? readyLine = null)
    {
        _readyLine = readyLine;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public void Append(string? line)
    {
        if (line is null)
        {
            // The end of one of the two outputs; after both, the process has nothing more to say.
            if (Interlocked.Decrement(ref _openStreams) == 0)
            {
                _ready.TrySetResult(false);
            }

            return;
        }

        lock (_gate)
        {
            _text.AppendLine(line);
            if (_text.Length > MaxChars)
            {
                _text.Remove(0, _text.Length - MaxChars);
            }
        }

        if (_readyLine is not null && line.Contains(_readyLine, StringComparison.Ordinal))
        {
            _ready.TrySetResult(true);
        }
    }

    /// <summary>
    /// Waits for the server <paramref name="process"/> to say it is ready (<see cref="Ready"/>): <see langword="true"/>
    /// then, <see langword="false"/> when it exited because its port was taken. A server that exited otherwise, or
    /// said nothing within <paramref name="timeout"/>, fails the run with what it printed.
    /// </summary>
    public static async Task<bool> WaitUntilReadyAsync(
        Process process,
        ServerOutput output,
        TimeSpan timeout,
        string server,
        int port
    )
    {
        bool ready;
        try
        {
            ready = await output.Ready.WaitAsync(timeout);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException(
                $"{server} did not say it was ready on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s. "
                    + $"Its output:{Environment.NewLine}{output}",
                exception
            );
        }

        if (ready)
        {
            return true;
        }

        // It exited: its output, now whole, says why.
        await process.WaitForExitAsync();
        return SaysPortTaken(output)
            ? false
            : throw new InvalidOperationException(
                $"{server} exited with code {process.ExitCode} while starting. Its output:{Environment.NewLine}{output}"
            );
    }

    /// <summary>
    /// Gets whether a server's output says it could not bind its port because another socket holds it (PostgreSQL:
    /// <c>could not bind IPv4 address ...: Address already in use</c>; Redis: <c>bind: Address already in use</c>).
    /// </summary>
    public static bool SaysPortTaken(ServerOutput output) =>
        output.ToString().Contains("Address already in use", StringComparison.OrdinalIgnoreCase);

    public override string ToString()
    {
        lock (_gate)
        {
            return _text.Length == 0 ? "(the server printed nothing)" : _text.ToString();
        }
    }
}
