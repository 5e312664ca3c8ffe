using System.Diagnostics;
using Npgsql;

namespace LazyMigrate.TestKit.Servers;

/// <summary>
/// A throwaway PostgreSQL 15 server for one test run: its own data folder in a temporary folder, 127.0.0.1 on a free
/// port, fsync off (unless <see cref="Durable"/>), stopped and deleted at the end. Share it through an xunit
/// collection fixture (<c>[CollectionDefinition("postgres")] public sealed class PostgresCollection :
/// ICollectionFixture&lt;PostgresServer&gt;;</c>
/// in the test assembly). It never skips: a server that cannot start fails the run with the reason.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    /// <summary>
    /// The database every test shares unless it asks for its own with <see cref="CreateDatabaseAsync"/>.
    /// </summary>
    public const string DatabaseName = "lazymigrate";

    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string SystemUser = "postgres";
    private const string Superuser = "postgres";
    private const int MaxStartAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private ServerOutput _output = new();
    private DirectoryInfo? _folder;
    private Process? _process;
    private NpgsqlDataSource? _maintenance;
    private NpgsqlDataSource? _dataSource;
    private NpgsqlDataSource? _lockDataSource;
    private string? _connectionString;

    /// <summary>Gets the port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>
    /// Gets the chooser of the port to start on, asked again when the server finds its port taken (another process
    /// bound it after it was chosen); at most five ports are tried.
    /// </summary>
    /// <value>The default value is <see cref="FreeTcpPort.Find"/>.</value>
    public Func<int> ChoosePort { get; init; } = FreeTcpPort.Find;

    /// <summary>
    /// Gets whether the server keeps PostgreSQL's default durability (fsync, synchronous commit, full page writes), as
    /// a production database does, for benchmarks whose ratio depends on what a commit costs; off for tests, which
    /// throw the data away.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Durable { get; init; }

    /// <summary>
    /// Gets whether the server decodes its log for logical replication (<c>wal_level = logical</c>, with room for a
    /// few slots and their WAL senders), as a capture by logical decoding needs; PostgreSQL's default level
    /// (<c>replica</c>) otherwise.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool LogicalDecoding { get; init; }

    /// <summary>
    /// Gets more server settings (<c>name=value</c>), applied after the others: for a benchmark that needs a server
    /// set otherwise, such as synchronous commit on a server that does not fsync.
    /// </summary>
    /// <value>The default value is empty.</value>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>Gets how many ports the server tried before it started.</summary>
    public int StartAttempts { get; private set; }

    /// <summary>Gets the connection string of <see cref="DatabaseName"/>: superuser, TCP, pooling on.</summary>
    public string ConnectionString => _connectionString ?? throw NotStarted();

    /// <summary>
    /// Gets a data source over <see cref="ConnectionString"/> for stores and queries, with room to spare: a pool of
    /// <see cref="StorePoolSize"/> connections that waits up to <see cref="PoolWait"/> for one.
    /// </summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw NotStarted();

    /// <summary>
    /// Gets a data source of its own for locks (application name <c>lazymigrate-locks</c>, a pool of
    /// <see cref="LockPoolSize"/>): locks held, or held while they poll, never take the connections the store calls
    /// need, nor the other way round.
    /// </summary>
    public NpgsqlDataSource LockDataSource => _lockDataSource ?? throw NotStarted();

    /// <summary>The connections the pool of <see cref="DataSource"/> may open.</summary>
    public const int StorePoolSize = 200;

    /// <summary>The connections the pool of <see cref="LockDataSource"/> may open.</summary>
    public const int LockPoolSize = 100;

    /// <summary>How long the pools of <see cref="DataSource"/> and <see cref="LockDataSource"/> wait for a connection.
    /// </summary>
    public static readonly TimeSpan PoolWait = TimeSpan.FromSeconds(30);

    /// <summary>Starts the server and creates <see cref="DatabaseName"/>.</summary>
    public async Task InitializeAsync()
    {
        RequireBinaries();
        try
        {
            _folder = Directory.CreateTempSubdirectory("lazymigrate-postgres-");
            if (SystemCommand.IsRoot)
            {
                // PostgreSQL refuses to run as root: the folder must belong to the user it runs as.
                await SystemCommand.RunAsync(
                    SystemCommand.StartInfo(
                        "chown",
                        ["-R", $"{SystemUser}:{SystemUser}", _folder.FullName],
                        null,
                        _folder.FullName
                    ),
                    StartTimeout
                );
            }

            string data = Path.Combine(_folder.FullName, "data");
            CompiledCapture.CopyInto(Path.Combine(_folder.FullName, CompiledCapture.Folder));
            await SystemCommand.RunAsync(
                Command(
                    "initdb",
                    [
                        "-D",
                        data,
                        "-U",
                        Superuser,
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--locale=C",
                        "--no-sync",
                        "--no-instructions",
                    ]
                ),
                StartTimeout
            );

            await StartOnAFreePortAsync(data);

            _maintenance = NpgsqlDataSource.Create(ConnectionStringFor("postgres", pooling: true));
            await using (var create = _maintenance.CreateCommand($"CREATE DATABASE \"{DatabaseName}\""))
            {
                await create.ExecuteNonQueryAsync();
            }

            _connectionString = ConnectionStringFor(DatabaseName, pooling: true);
            _dataSource = NpgsqlDataSource.Create(Pool(_connectionString, StorePoolSize, applicationName: null));
            _lockDataSource = NpgsqlDataSource.Create(Pool(_connectionString, LockPoolSize, "lazymigrate-locks"));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a fresh database with a unique name, for a test that needs isolation.</summary>
    /// <returns>The connection string of the new database (superuser, TCP, pooling on).</returns>
    public async Task<string> CreateDatabaseAsync()
    {
        NpgsqlDataSource maintenance = _maintenance ?? throw NotStarted();
        string name = $"lazymigrate_{Guid.NewGuid():N}";
        await using (var create = maintenance.CreateCommand($"CREATE DATABASE \"{name}\""))
        {
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionStringFor(name, pooling: true);
    }

    /// <summary>Stops the server at once (no checkpoint: its data is thrown away) and deletes its folder.</summary>
    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        if (_lockDataSource is not null)
        {
            await _lockDataSource.DisposeAsync();
        }

        if (_maintenance is not null)
        {
            await _maintenance.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await StopServerAsync();
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

    private static void RequireBinaries()
    {
        foreach (string program in new[] { "initdb", "postgres", "pg_ctl" })
        {
            string path = Path.Combine(BinDirectory, program);
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"PostgreSQL 15 is not installed: {path} is missing. Install the Debian package `postgresql` "
                        + "(the README's test command, `bash scripts/test.sh`, installs it where it is missing)."
                );
            }
        }
    }

    private static ProcessStartInfo Command(string program, IEnumerable<string> arguments) =>
        SystemCommand.StartInfo(Path.Combine(BinDirectory, program), arguments, SystemUser, Path.GetTempPath());

    /// <summary>Starts the server on a chosen port, and on another when it finds the port taken.</summary>
    private async Task StartOnAFreePortAsync(string data)
    {
        for (StartAttempts = 1; ; StartAttempts++)
        {
            Port = ChoosePort();
            _output = new ServerOutput();
            StartServer(data);
            if (await WaitUntilAcceptingAsync())
            {
                return;
            }

            _process!.Dispose();
            _process = null;
            if (StartAttempts == MaxStartAttempts)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL found each of the {MaxStartAttempts} ports it tried taken. "
                        + $"Its last log:{Environment.NewLine}{_output}"
                );
            }
        }
    }

    private void StartServer(string data)
    {
        _process = new Process
        {
            StartInfo = Command(
                "postgres",
                [
                    "-D",
                    data,
                    "-p",
                    Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    _folder!.FullName,
                    .. (
                        Durable
                            ? (string[])[]
                            : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
                    ),
                    .. (
                        LogicalDecoding
                            ? (string[])
                                [
                                    "-c",
                                    "wal_level=logical",
                                    "-c",
                                    "max_replication_slots=20",
                                    "-c",
                                    "max_wal_senders=20",
                                ]
                            : []
                    ),
                    // Each simulated service instance has its own connection pools: leave room for several, beyond
                    // the shared pools of stores and locks (StorePoolSize + LockPoolSize).
                    "-c",
                    "max_connections=500",
                    // The compiled capture trigger's module, copied beside the data (CompiledCapture).
                    "-c",
                    $"dynamic_library_path=$libdir:{Path.Combine(_folder!.FullName, CompiledCapture.Folder)}",
                    // Last, so that a setting given wins over any above.
                    .. Settings.SelectMany(setting => (string[])["-c", setting]),
                ]
            ),
        };
        _process.Start();
        _output.Follow(_process, "database system is ready to accept connections");
    }

    /// <summary>
    /// Returns true once the server accepts connections, false when it exited because its port was taken.
    /// </summary>
    private async Task<bool> WaitUntilAcceptingAsync()
    {
        // The server says when it accepts connections (initdb's C locale keeps its messages in English); one
        // connection then confirms it. A short connect timeout: a port another listener took accepts the connection
        // and never answers.
        if (!await ServerOutput.WaitUntilReadyAsync(_process!, _output, StartTimeout, "PostgreSQL", Port))
        {
            return false;
        }

        string probe = new NpgsqlConnectionStringBuilder(ConnectionStringFor("postgres", pooling: false))
        {
            Timeout = 2,
        }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(probe);
            await connection.OpenAsync();
            return true;
        }
        catch (Exception exception)
            when (exception is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"PostgreSQL said it accepts connections, but a connection to 127.0.0.1:{Port} failed "
                    + $"({exception.Message}). Its log:{Environment.NewLine}{_output}",
                exception
            );
        }
    }

    private async Task StopServerAsync()
    {
        if (_process is null)
        {
            return;
        }

        using Process process = _process;
        _process = null;
        if (!process.HasExited)
        {
            try
            {
                // Immediate mode: the data is thrown away, so there is nothing to checkpoint.
                await SystemCommand.RunAsync(
                    Command(
                        "pg_ctl",
                        ["stop", "-D", Path.Combine(_folder!.FullName, "data"), "-m", "immediate", "-w", "-t", "30"]
                    ),
                    TimeSpan.FromSeconds(40)
                );
            }
            catch (InvalidOperationException)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static string Pool(string connectionString, int size, string? applicationName) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = size,
            Timeout = (int)PoolWait.TotalSeconds,
            ApplicationName = applicationName,
        }.ConnectionString;

    private string ConnectionStringFor(string database, bool pooling) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = Superuser,
            Database = database,
            Pooling = pooling,
            Timeout = 5,
            IncludeErrorDetail = true,
        }.ConnectionString;

    private static InvalidOperationException NotStarted() =>
        new("The PostgreSQL server is not running: use it as an xunit fixture, which calls InitializeAsync first.");
}
