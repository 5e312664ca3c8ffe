using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// A throwaway Redis server for one test run: a child process on 127.0.0.1 on a free port, no persistence, its working
/// folder temporary, killed and deleted at the end. Share it through an xunit collection fixture
/// (<c>[CollectionDefinition("redis")] public sealed class RedisCollection : ICollectionFixture&lt;RedisServer&gt;;</c>
/// in the test assembly). It never skips: a server that cannot start fails the run with the reason.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private const string Program = "/usr/bin/redis-server";
    private const int MaxStartAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private ServerOutput _output = new();
    private DirectoryInfo? _folder;
    private Process? _process;

    /// <summary>Gets the port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>
    /// Gets the chooser of the port to start on, asked again when the server finds its port taken (another process
    /// bound it after it was chosen); at most five ports are tried.
    /// </summary>
    /// <value>The default value is <see cref="FreeTcpPort.Find"/>.</value>
    public Func<int> ChoosePort { get; init; } = FreeTcpPort.Find;

    /// <summary>Gets how many ports the server tried before it started.</summary>
    public int StartAttempts { get; private set; }

    /// <summary>Gets the StackExchange.Redis configuration string, <c>127.0.0.1:PORT</c>.</summary>
    public string ConnectionString =>
        _process is not null
            ? string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}")
            : throw new InvalidOperationException(
                "The Redis server is not running: use it as an xunit fixture, which calls InitializeAsync first."
            );

    /// <summary>Starts the server and waits until it answers PING.</summary>
    public async Task InitializeAsync()
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException(
                $"Redis is not installed: {Program} is missing. Install the Debian package `redis-server` "
                    + "(the README's test command, `bash scripts/test.sh`, installs it where it is missing)."
            );
        }

        try
        {
            _folder = Directory.CreateTempSubdirectory("lazymigrate-redis-");
            await StartOnAFreePortAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the server and deletes its folder.</summary>
    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            using Process process = _process;
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timer.Token);
            }
            catch (OperationCanceledException)
            {
                // Killed but not yet reaped: the operating system finishes the job; the run goes on.
            }
        }

        if (_folder is not null)
        {
            try
            {
                _folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is not worth failing a test run for.
            }
        }
    }

    /// <summary>Starts the server on a chosen port, and on another when it finds the port taken.</summary>
    private async Task StartOnAFreePortAsync()
    {
        for (StartAttempts = 1; ; StartAttempts++)
        {
            Port = ChoosePort();
            _output = new ServerOutput();
            _process = new Process
            {
                StartInfo = SystemCommand.StartInfo(
                    Program,
                    [
                        "--port",
                        Port.ToString(CultureInfo.InvariantCulture),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        _folder!.FullName,
                        "--daemonize",
                        "no",
                    ],
                    runAs: null,
                    _folder.FullName
                ),
            };
            _process.Start();
            _output.Follow(_process, "Ready to accept connections");
            if (await WaitUntilAnsweringAsync())
            {
                return;
            }

            _process.Dispose();
            _process = null;
            if (StartAttempts == MaxStartAttempts)
            {
                throw new InvalidOperationException(
                    $"redis-server found each of the {MaxStartAttempts} ports it tried taken. "
                        + $"Its last output:{Environment.NewLine}{_output}"
                );
            }
        }
    }

    /// <summary>Returns true once the server answers PING, false when it exited because its port was taken.</summary>
    private async Task<bool> WaitUntilAnsweringAsync()
    {
        // The server says when it accepts connections; one PING then confirms it.
        if (!await ServerOutput.WaitUntilReadyAsync(_process!, _output, StartTimeout, "redis-server", Port))
        {
            return false;
        }

        try
        {
            if (await PingAsync())
            {
                return true;
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"redis-server said it accepts connections, but a PING to 127.0.0.1:{Port} failed "
                    + $"({exception.Message}). Its output:{Environment.NewLine}{_output}",
                exception
            );
        }

        throw new InvalidOperationException(
            $"redis-server said it accepts connections, but did not answer PING with PONG on 127.0.0.1:{Port}. "
                + $"Its output:{Environment.NewLine}{_output}"
        );
    }

    private async Task<bool> PingAsync()
    {
        using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, timer.Token);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), timer.Token);
        byte[] buffer = new byte[64];
        int read = await stream.ReadAsync(buffer, timer.Token);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
    }
}
