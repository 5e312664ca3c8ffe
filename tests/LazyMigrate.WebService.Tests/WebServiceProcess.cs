using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// The web service sample run for real: its dll in a child process (<c>dotnet LazyMigrate.WebService.dll</c>) on a
/// loopback port Kestrel picks (<c>--urls http://127.0.0.1:0</c>), with its data in a fresh folder or a fresh
/// PostgreSQL database. The tests reach it over HTTP only.
/// </summary>
public sealed partial class WebServiceProcess : IAsyncDisposable
{
    /// <summary>How long the service may take to seed its databases and start listening.</summary>
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("lazymigrate-webservice-tests-");
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _output = new();

    private WebServiceProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServicePath);
        foreach (string argument in (string[])["--urls", "http://127.0.0.1:0", "--data", _data.FullName, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => OnOutput(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _ = FailIfItExitsAsync();
    }

    /// <summary>The service's dll, as the build recorded it in this assembly.</summary>
    public static string ServicePath => BuiltProgram.PathOf(typeof(WebServiceProcess), "WebServicePath");

    /// <summary>Gets the address the service listens on.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets what the service printed so far (for a failure message).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the service and returns once it listens.</summary>
    /// <param name="arguments">Its options: <c>--write-back async</c>, <c>--postgres "..."</c>, ...</param>
    public static async Task<WebServiceProcess> StartAsync(params string[] arguments)
    {
        var service = new WebServiceProcess(arguments);
        try
        {
            service.BaseAddress = await service._listening.Task.WaitAsync(StartBound);
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs the service with <paramref name="arguments"/> to its exit, for a start that fails: its exit code and what
    /// it printed.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> ExitAsync(params string[] arguments)
    {
        await using var service = new WebServiceProcess(arguments);
        // WaitForExitAsync returns after the redirected streams reached their end, so the output is whole.
        await service._process.WaitForExitAsync().WaitAsync(StartBound);
        return (service._process.ExitCode, service.Output);
    }

    /// <summary>A client of the service with a bound on every request: a request that takes longer fails.</summary>
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _data.Delete(recursive: true);
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } listening)
        {
            _listening.TrySetResult(new Uri(listening.Groups["address"].Value));
        }
    }

    private async Task FailIfItExitsAsync()
    {
        await _process.WaitForExitAsync();
        _listening.TrySetException(
            new InvalidOperationException(
                $"The web service exited with code {_process.ExitCode} before it listened:{Environment.NewLine}{Output}"
            )
        );
    }

    [GeneratedRegex(@"^LazyMigrate web service listening on (?<address>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
