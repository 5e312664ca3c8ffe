using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// The capture trigger's cost to legacy writes, paired: the writes of <see cref="PostgresCaptureTriggerBenchmarks"/>
/// to tables of one server, one table a way (no trigger, no trigger again as the A/A control, LazyMigrate's trigger
/// with its PL/pgSQL functions and with its compiled capture, which needs <c>extensions/lazymigrate_capture</c> built,
/// the least capture trigger), in rounds of <see cref="LegacyWriteWorkload.Rows"/> writes that alternate their order
/// (<see cref="AlternatingRounds"/>). BenchmarkDotNet runs each case in a process and on a server of its own, minutes
/// apart, so the drift of this machine between cases lands in its ratios (its A/A control spread 0.87-1.17 in a run);
/// here every way's round sits beside the others', and the ratio of each round is of writes made seconds apart.
/// </summary>
/// <remarks>
/// <c>--probe-trigger [rounds] [--durable] [--stale] [--write update|save] [--variant file.sql]</c>: for each pool
/// behaviour and 1 and 8 writers, the median time a write of each way, and the median and quartiles of its rounds'
/// throughput against the same round's writes without a trigger. <c>--durable</c> keeps fsync on (PostgreSQL's
/// defaults); otherwise fsync is off and commits are synchronous, as in the benchmark. <c>--stale</c> adds
/// LazyMigrate's trigger with the new store's stale mark, each write marking a migrated entity. <c>--write save</c>
/// makes each write the web service sample's old-API save instead of a one-column update (<see cref="LegacyWrite"/>).
/// <c>--variant</c> adds a way whose table (<c>{table}</c> in the file) gets the file's triggers: a design tried before
/// it is built (<c>{directory}</c> in the file is its folder, for a library it loads from there). Untimed before each
/// round: the captures emptied and the tables vacuumed, as a dispatcher that keeps up and autovacuum leave them.
/// </remarks>
internal static class CaptureTriggerProbe
{
    private const string Baseline = "none";

    private const string Captures = PostgreSqlOutboxOptions.DefaultTableName + "_captures";

    /// <summary>The new store's table of the <c>stale</c> way, which holds every legacy row's entity.</summary>
    private const string NewStore = "new_customers";

    public static async Task RunAsync(string[] args)
    {
        int rounds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out int given) ? given : 30;
        bool durable = args.Contains("--durable");
        LegacyWrite write = Array.IndexOf(args, "--write") is var written and >= 0
            ? Enum.Parse<LegacyWrite>(args[written + 1], ignoreCase: true)
            : LegacyWrite.Update;
        string[] ways = [Baseline, "control", "trigger", "compiled", "floor"];
        // {directory} in the file is its folder, for what a variant loads beside it (a trigger's compiled library).
        string? variant = Array.IndexOf(args, "--variant") is var at and >= 0
            ? (await File.ReadAllTextAsync(args[at + 1])).Replace(
                "{directory}",
                Path.GetDirectoryName(Path.GetFullPath(args[at + 1])),
                StringComparison.Ordinal
            )
            : null;
        if (variant is not null)
        {
            ways = [.. ways, "variant"];
        }

        if (args.Contains("--stale"))
        {
            ways = [.. ways, "stale"];
        }

        await using PostgresBench bench = await PostgresBench.StartAsync(
            new PostgresServer { Durable = durable, Settings = durable ? [] : ["synchronous_commit=on"] }
        );
        await PostgreSqlOutboxSchema.CreateAsync(bench.DataSource);
        foreach (string way in ways)
        {
            await ExecuteAsync(bench.DataSource, LegacyWriteWorkload.CreateTable(TableOf(way), write));
        }

        if (variant is not null)
        {
            await ExecuteAsync(
                bench.DataSource,
                variant.Replace("{table}", TableOf("variant"), StringComparison.Ordinal)
            );
        }

        await PostgreSqlForwardSyncTrigger.CreateAsync(
            bench.DataSource,
            new() { LegacyTable = TableOf("trigger"), Migration = "LegacyCustomer->Customer" }
        );
        await PostgreSqlForwardSyncTrigger.CreateAsync(
            bench.DataSource,
            new()
            {
                LegacyTable = TableOf("compiled"),
                Migration = "LegacyCustomer->Customer",
                CompiledCapture = true,
            }
        );
        await ExecuteAsync(bench.DataSource, LegacyWriteWorkload.LeastCaptureTrigger(TableOf("floor")));
        if (ways.Contains("stale"))
        {
            await CreateStaleWayAsync(bench.DataSource);
        }

        Console.WriteLine(
            (durable ? "durable server (fsync on)" : "fsync off, synchronous commit on") + $", legacy writes: {write}"
        );
        Console.WriteLine(
            "pool | writers | way | median us a write | rounds' throughput against none: median (quartiles)"
        );
        int version = 0;
        foreach (LegacyPool pool in Enum.GetValues<LegacyPool>())
        {
            var legacy = ways.ToDictionary(w => w, _ => LegacyWriteWorkload.Pool(bench.ConnectionString, pool));
            try
            {
                foreach (int concurrency in (int[])[1, 8])
                {
                    AlternatingRounds result = await AlternatingRounds.RunAsync(
                        ways,
                        rounds,
                        LegacyWriteWorkload.Rows,
                        async way =>
                        {
                            await ExecuteAsync(
                                bench.DataSource,
                                $"DELETE FROM {Captures}; TRUNCATE {LegacyWriteWorkload.FloorCaptures}"
                            );
                            if (way == "stale")
                            {
                                // Every entity read since its last legacy write: each write of the round marks one.
                                await ExecuteAsync(
                                    bench.DataSource,
                                    $"UPDATE {NewStore} SET stale = false WHERE stale"
                                );
                                await ExecuteAsync(bench.DataSource, $"VACUUM {NewStore}");
                            }

                            await ExecuteAsync(
                                bench.DataSource,
                                $"VACUUM {Captures}, {LegacyWriteWorkload.FloorCaptures}, {TableOf(way)}"
                            );
                            int v = ++version;
                            return () =>
                                LegacyWriteWorkload.WriteAllAsync(legacy[way], TableOf(way), concurrency, v, write);
                        }
                    );
                    Report(result, ways, pool, concurrency);
                }
            }
            finally
            {
                foreach (NpgsqlDataSource dataSource in legacy.Values)
                {
                    await dataSource.DisposeAsync();
                }
            }
        }
    }

    private static void Report(AlternatingRounds result, string[] ways, LegacyPool pool, int concurrency)
    {
        IReadOnlyList<double> baseline = result.Micros(Baseline);
        foreach (string way in ways)
        {
            IReadOnlyList<double> micros = result.Micros(way);
            // A round's throughput against the baseline's round: the inverse of their times a write.
            var ratios = baseline.Zip(micros, (b, w) => b / w).Order().ToList();
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{pool} | {concurrency} | {way} | {AlternatingRounds.MedianOf(micros):F1} | "
                        + $"{AlternatingRounds.MedianOf(ratios):F2} "
                        + $"({ratios[ratios.Count / 4]:F2}-{ratios[ratios.Count * 3 / 4]:F2})"
                )
            );
        }
    }

    private static string TableOf(string way) => $"legacy_{way}";

    /// <summary>
    /// The <c>stale</c> way: LazyMigrate's trigger with the new store's stale mark
    /// (<see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/>), on a new store that holds every row's entity,
    /// so that each legacy write also marks its entity's row, as when both tables share the database.
    /// </summary>
    private static async Task CreateStaleWayAsync(NpgsqlDataSource dataSource)
    {
        await ExecuteAsync(dataSource, PostgreSqlDocumentStoreSchema.CreateScript("public", NewStore));
        await ExecuteAsync(
            dataSource,
            $"INSERT INTO {NewStore} (id, payload) SELECT i::text, jsonb_build_object('id', i) "
                + $"FROM generate_series(1, {LegacyWriteWorkload.Rows}) i; ANALYZE {NewStore}"
        );
        await PostgreSqlForwardSyncTrigger.CreateAsync(
            dataSource,
            new()
            {
                LegacyTable = TableOf("stale"),
                Migration = "LegacyCustomer->Customer",
                NewStoreTable = NewStore,
            }
        );
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
