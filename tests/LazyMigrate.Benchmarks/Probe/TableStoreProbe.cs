using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.PostgreSql;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// <c>--probe-table [rounds]</c>: the reads of <c>PostgresTableStoreBenchmarks</c> in one process on one server, in
/// alternating rounds, so that the drift of a noisy machine hits the table store, the hand-written code and its A/A
/// control alike. Each way has a connection pool of its own. Prints each way's median time per operation and its
/// throughput against the hand-written code.
/// </summary>
internal static class TableStoreProbe
{
    private const int Rows = 10_000;

    public static async Task RunAsync(string[] args)
    {
        int rounds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out int given) ? given : 30;
        await using PostgresBench bench = await PostgresBench.StartAsync();
        await LegacyCustomers.CreateAsync(bench.DataSource, Rows);
        var options = new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = LegacyCustomers.Table };
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(bench.OwnPool(), options);
        var byRowMapping = new PostgreSqlTableOldStore<LegacyCustomer>(
            bench.OwnPool(),
            new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = LegacyCustomers.Table }.UseRowMapping(
                ["full_name", "phone", "credit_limit", "updated_at"],
                (r, _) =>
                    new LegacyCustomer(
                        r.GetFieldValue<int>(4),
                        r.GetFieldValue<string>(0),
                        r.IsDBNull(1) ? null : r.GetFieldValue<string>(1),
                        r.GetFieldValue<int>(2),
                        r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3)
                    ),
                (_, _) => throw new NotSupportedException("The probe only reads.")
            )
        );
        var handWritten = new HandWrittenCustomerReads(bench.OwnPool(), options.ScanPageSize);
        var control = new HandWrittenCustomerReads(bench.OwnPool(), options.ScanPageSize);
        // "--probe-table 30 scan" runs the scan alone.
        if (args is not [_, _, "scan"])
        {
            await CompareReadsAsync(rounds, handWritten, control, store);
        }

        await CompareAsync(
            "scan",
            rounds,
            5,
            new()
            {
                ["HandWritten"] = async _ => await handWritten.ScanAsync() == Rows,
                ["HandWrittenControl"] = async _ => await control.ScanAsync() == Rows,
                ["HandWrittenPairs"] = async _ =>
                {
                    int rows = 0;
                    await foreach (var row in handWritten.ScanPairsAsync())
                    {
                        rows++;
                    }

                    return rows == Rows;
                },
                ["TableStoreRowMapping"] = async _ =>
                {
                    int rows = 0;
                    await foreach (var row in byRowMapping.ScanAsync(null))
                    {
                        rows++;
                    }

                    return rows == Rows;
                },
                ["TableStore"] = async _ =>
                {
                    int rows = 0;
                    await foreach (var row in store.ScanAsync(null))
                    {
                        rows++;
                    }

                    return rows == Rows;
                },
            }
        );
    }

    private static async Task CompareReadsAsync(
        int rounds,
        HandWrittenCustomerReads handWritten,
        HandWrittenCustomerReads control,
        PostgreSqlTableOldStore<LegacyCustomer> store
    )
    {
        int[] batch = [.. Enumerable.Range(0, 100).Select(i => (i * 97 % Rows) + 1)];
        string[] batchIds = [.. batch.Select(k => k.ToString(CultureInfo.InvariantCulture))];
        await CompareAsync(
            "find",
            rounds,
            1000,
            new()
            {
                ["HandWritten"] = async i => await handWritten.FindAsync((i % Rows) + 1) is not null,
                ["HandWrittenControl"] = async i => await control.FindAsync((i % Rows) + 1) is not null,
                ["TableStore"] = async i =>
                    await store.FindAsync(((i % Rows) + 1).ToString(CultureInfo.InvariantCulture)) is not null,
            }
        );
        await CompareAsync(
            "findmany",
            rounds,
            100,
            new()
            {
                ["HandWritten"] = async _ => (await handWritten.FindManyAsync(batch)).Count == batch.Length,
                ["HandWrittenControl"] = async _ => (await control.FindManyAsync(batch)).Count == batch.Length,
                ["TableStore"] = async _ => (await store.FindManyAsync(batchIds)).Count == batch.Length,
            }
        );
    }

    private static async Task CompareAsync(
        string operation,
        int rounds,
        int operationsPerRound,
        Dictionary<string, Func<int, Task<bool>>> ways
    )
    {
        int next = 0;
        AlternatingRounds measured = await AlternatingRounds.RunAsync(
            [.. ways.Keys],
            rounds,
            operationsPerRound,
            way =>
                Task.FromResult<Func<Task>>(async () =>
                {
                    for (int i = 0; i < operationsPerRound; i++)
                    {
                        if (!await ways[way](next++))
                        {
                            throw new InvalidOperationException($"{way} missed rows.");
                        }
                    }
                })
        );
        double baseline = measured.Median("HandWritten").Micros;
        foreach (string way in ways.Keys)
        {
            var (micros, cpu, _) = measured.Median(way);
            var (min, max) = measured.Range(way);
            Console.WriteLine(
                $"{operation, -8} {way, -20} median {micros, 9:F1} us/op  throughput x{baseline / micros:F3} of the "
                    + $"hand-written code  (min {min:F1}, max {max:F1})  client CPU {cpu, 8:F1} us/op"
            );
        }
    }
}
