using System.Diagnostics;
using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// Where the time of a capture by logical decoding goes, for development: rounds of legacy writes (8 writers, one
/// <c>UPDATE</c> by key each) on a server that commits synchronously with fsync off, each round's time split into the
/// writes and the tail until the reader recorded them all, with the CPU of the machine, of this process (the writers'
/// client and the reader) and of the server's processes. The mode: <c>reader</c>, the table published at <c>wal_level
/// = logical</c> and read by <see cref="SlotCaptureReader"/>; <c>none</c>, the same level with no slot; <c>replica</c>,
/// PostgreSQL's default level. Usage: <c>--probe-capture [rounds] [writes] [reader|none|replica]</c>.
/// </summary>
internal static class LogicalCaptureProbe
{
    private const string Table = "legacy_customers";

    public static async Task RunAsync(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6;
        int writes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20_000;
        string mode = args.Length > 3 ? args[3] : "reader";
        if (mode is not ("reader" or "none" or "replica"))
        {
            throw new ArgumentException($"The mode is reader, none or replica, not '{mode}'.", nameof(args));
        }

        await using PostgresBench bench = await PostgresBench.StartAsync(
            new PostgresServer { LogicalDecoding = mode != "replica", Settings = ["synchronous_commit=on"] }
        );
        await using NpgsqlDataSource legacy = NpgsqlDataSource.Create(bench.ConnectionString);
        await ExecuteAsync(
            bench.DataSource,
            $"CREATE TABLE {Table} (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
                + $"INSERT INTO {Table} SELECT i, 'Customer ' || i, 1 FROM generate_series(1, 1000) i"
        );
        await PostgreSqlOutboxSchema.CreateAsync(bench.DataSource);
        SlotCaptureReader? reader = mode == "reader" ? await SlotCaptureReader.CreateAsync(bench, Table, "m") : null;
        long awaited = 0;
        TaskCompletionSource? all = null;
        reader?.Recorded = captured =>
        {
            if (captured >= Volatile.Read(ref awaited))
            {
                all?.TrySetResult();
            }
        };
        using var stop = new CancellationTokenSource();
        Task reading = reader?.RunAsync(stop.Token) ?? Task.CompletedTask;
        int version = 0;
        for (int round = 0; round < rounds; round++)
        {
            all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref awaited, awaited + writes);
            MachineCpu cpuBefore = MachineCpu.Now();
            TimeSpan processBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            int v = ++version;
            await ConcurrentWork.RunAsync(
                writes,
                8,
                async i =>
                {
                    await using NpgsqlCommand update = legacy.CreateCommand(
                        $"UPDATE {Table} SET version = $1 WHERE id = $2"
                    );
                    update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = v });
                    update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (i % 1000) + 1 });
                    await update.ExecuteNonQueryAsync();
                }
            );
            TimeSpan written = clock.Elapsed;
            long capturedAtEnd = reader?.Captured ?? 0;
            if (reader is not null)
            {
                await (await Task.WhenAny(all.Task, reading).WaitAsync(TimeSpan.FromMinutes(2)));
            }

            TimeSpan captured = clock.Elapsed;
            MachineCpu cpu = MachineCpu.Now() - cpuBefore;
            TimeSpan process = Process.GetCurrentProcess().TotalProcessorTime - processBefore;
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"round {round}: writes {written.TotalMilliseconds:F0} ms ({writes / written.TotalSeconds:F0}/s), "
                        + $"captured {writes - (Volatile.Read(ref awaited) - capturedAtEnd)} of {writes} by then; "
                        + $"all captured at {captured.TotalMilliseconds:F0} ms; "
                        + $"this process {process.TotalSeconds:F2} s; {cpu}"
                )
            );
        }

        await stop.CancelAsync();
        try
        {
            await reading;
        }
        catch (OperationCanceledException) { }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
