using System.Diagnostics;
using System.Text;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.QuickStart.Tests;

/// <summary>
/// One run of the quick start as the README gives it: its dll in a child process (<c>dotnet
/// LazyMigrate.QuickStart.dll</c>), its output redirected (so it prints plain progress lines, not a bar), to its end.
/// </summary>
/// <param name="ExitCode">The process's exit code: 0 when every claim it checks held.</param>
/// <param name="Output">What it printed, standard output and error interleaved as they came.</param>
public sealed record QuickStartRun(int ExitCode, string Output)
{
    /// <summary>How long a run may take: seeding, every step and the backfill, on a loaded CI machine.</summary>
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(3);

    /// <summary>Gets the quick start's dll, as the build recorded it in this assembly.</summary>
    public static string QuickStartPath => BuiltProgram.PathOf(typeof(QuickStartRun), "QuickStartPath");

    /// <summary>Gets the lines printed, without their indentation.</summary>
    public IReadOnlyList<string> Lines => [.. Output.Split('\n').Select(line => line.Trim())];

    /// <summary>Runs the quick start with <paramref name="arguments"/> and returns once it exited.</summary>
    public static async Task<QuickStartRun> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(QuickStartPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(RunBound);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The quick start did not end within {RunBound}:\n{Text(output)}");
        }

        // WaitForExitAsync returns after the redirected streams reached their end, so the output is whole.
        return new QuickStartRun(process.ExitCode, Text(output));
    }

    /// <summary>Gets the one line that starts with <paramref name="prefix"/>, failing the test otherwise.</summary>
    public string Line(string prefix) =>
        Lines.SingleOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"No line starts with '{prefix}':\n{Output}");

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
