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

    /// <summary>
    /// Starts copying a process's standard output and error into this buffer; call right after the process started.
    /// </summary>
    public void Follow(Process process)
    {
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public void Append(string? line)
    {
        if (line is null)
        {
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
