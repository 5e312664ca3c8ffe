using System.Diagnostics;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// Runs a program to its end, as the current user or (when the tests run as root) as another system user.
/// </summary>
internal static class SystemCommand
{
    /// <summary>
    /// Gets whether this process runs as root, where PostgreSQL refuses to run and needs its own user.
    /// </summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Builds the start info of a program; when <paramref name="runAs"/> is set and this process runs as root, the
    /// program runs as that user through <c>runuser</c>.
    /// </summary>
    public static ProcessStartInfo StartInfo(
        string program,
        IEnumerable<string> arguments,
        string? runAs,
        string workingDirectory
    )
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = workingDirectory,
        };
        if (runAs is not null && IsRoot)
        {
            info.FileName = "runuser";
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(runAs);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(program);
        }
        else
        {
            info.FileName = program;
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>Runs a program to its end and returns what it printed.</summary>
    /// <exception cref="InvalidOperationException">It could not start, exited with an error, or ran longer than
    /// <paramref name="timeout"/>.</exception>
    public static async Task<string> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        string commandLine = $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
        var output = new ServerOutput();
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception exception)
        {
            throw new InvalidOperationException($"Could not start `{commandLine}`: {exception.Message}", exception);
        }

        output.Follow(process);
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException(
                $"`{commandLine}` did not finish within {timeout.TotalSeconds:0} s. "
                    + $"Its output:{Environment.NewLine}{output}"
            );
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"`{commandLine}` exited with code {process.ExitCode}. Its output:{Environment.NewLine}{output}"
            );
        }

        return output.ToString();
    }
}
