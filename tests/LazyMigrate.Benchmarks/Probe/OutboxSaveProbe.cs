using System.Globalization;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// <c>--probe-save [rounds] [--concurrency N] [--only A,B]</c>: the saves of <c>PostgresOutboxSaveBenchmarks</c> in
/// one process on one server, in alternating rounds: without write-back (twice: the second is an A/A control) and with
/// <see cref="WriteBackMode.Async"/> write-back, each repository with a connection pool and ids of its own. The outbox
/// is drained between rounds, untimed, as the benchmark drains it between iterations. Prints each way's median time
/// per save and its throughput against the first.
/// </summary>
internal static class OutboxSaveProbe
{
    private const int SavesPerRound = 1000;

    public static async Task RunAsync(string[] args)
    {
        int rounds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out int given) ? given : 30;
        int[] concurrencies = Array.IndexOf(args, "--concurrency") is var c and >= 0
            ? [int.Parse(args[c + 1], CultureInfo.InvariantCulture)]
            : [1, 8];
        await using PostgresBench bench = await PostgresBench.StartAsync();
        RawConnectionString = bench.DataSource.ConnectionString;
        var ways = new Dictionary<string, SaveWay>();
        try
        {
            foreach (
                var (name, mode) in new[]
                {
                    ("None", WriteBackMode.None),
                    ("NoneControl", WriteBackMode.None),
                    ("Async", WriteBackMode.Async),
                    ("StoreNone", WriteBackMode.None),
                    ("StoreAsync", WriteBackMode.Async),
                    ("RawNone", WriteBackMode.None),
                    ("RawAsyncReader", WriteBackMode.Async),
                    ("RawAsyncNonQuery", WriteBackMode.Async),
                    ("RawAsync4", WriteBackMode.Async),
                }
            )
            {
                var (services, repository, dispatcher) = await OutboxRepositories.BuildAsync(
                    bench,
                    mode,
                    dataSource: bench.OwnPool()
                );
                ways[name] = new SaveWay(services, repository, mode == WriteBackMode.None ? null : dispatcher);
            }

            if (Array.IndexOf(args, "--only") is var only and >= 0)
            {
                string[] names = args[only + 1].Split(',');
                foreach (string name in ways.Keys.Where(n => !names.Contains(n)).ToList())
                {
                    await ways[name].Services.DisposeAsync();
                    ways.Remove(name);
                }
            }

            foreach (int concurrency in concurrencies)
            {
                await CompareAsync(ways, concurrency, rounds);
            }
        }
        finally
        {
            foreach (var way in ways.Values)
            {
                await way.Services.DisposeAsync();
            }
        }
    }

    private static readonly Dictionary<string, Npgsql.NpgsqlDataSource> Pools = [];
    private static string RawConnectionString = "";

    private static Task RawRoundAsync(string way, Dictionary<string, SaveWay> ways, int age, int concurrency)
    {
        const string upsert =
            "INSERT INTO new_profiles (id, payload, deleted, updated_at) VALUES ($1, $2, false, now()) ON"
            + " CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, deleted = false, updated_at ="
            + " EXCLUDED.updated_at";
        const string conflict =
            " ON CONFLICT (migration, kind, entity_id) DO UPDATE SET version = o.version + CASE WHEN o.kind = 2"
            + " THEN 0 ELSE 1 END, attempts = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN 0 ELSE o.attempts"
            + " END, next_attempt_at = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN EXCLUDED.recorded_at ELSE"
            + " o.next_attempt_at END, dead_lettered = o.dead_lettered AND o.kind = 2 RETURNING version";
        string cte7 =
            $"WITH store AS ({upsert} RETURNING id) INSERT INTO outbox AS o (migration, kind, entity_id, version,"
            + $" payload, recorded_at, attempts, next_attempt_at, dead_lettered) SELECT $3, $4, $5, 1, $6, $7, 0,"
            + $" $7, false FROM store"
            + conflict;
        string cte4 =
            $"WITH store AS ({upsert} RETURNING id) INSERT INTO outbox AS o (migration, kind, entity_id, version,"
            + $" payload, recorded_at, attempts, next_attempt_at, dead_lettered) SELECT $3, 1::smallint, store.id,"
            + $" 1, NULL::jsonb, $4, 0, $4, false FROM store"
            + conflict;
        var services = ways[way].Services;
        var pool = Pools.TryGetValue(way, out var p)
            ? p
            : Pools[way] = Npgsql.NpgsqlDataSource.Create(RawConnectionString);
        var profiles = Enumerable
            .Range(0, SavesPerRound)
            .Select(i => new NewProfile($"{way}-{i:D6}", "Ada", "Lovelace", age))
            .ToArray();
        return ConcurrentWork.RunAsync(
            profiles.Length,
            concurrency,
            async i =>
            {
                await using var connection = await pool.OpenConnectionAsync();
                string payload = System.Text.Json.JsonSerializer.Serialize(profiles[i]);
                await using var cmd = new Npgsql.NpgsqlCommand(
                    way switch
                    {
                        "RawNone" => upsert,
                        "RawAsync4" => cte4,
                        _ => cte7,
                    },
                    connection
                );
                cmd.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = profiles[i].Id });
                cmd.Parameters.Add(
                    new Npgsql.NpgsqlParameter<string>
                    {
                        TypedValue = payload,
                        NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb,
                    }
                );
                if (way != "RawNone")
                {
                    cmd.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = "OldProfile->NewProfile" });
                    if (way != "RawAsync4")
                    {
                        cmd.Parameters.Add(new Npgsql.NpgsqlParameter<short> { TypedValue = 1 });
                        cmd.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = profiles[i].Id });
                        cmd.Parameters.Add(
                            new Npgsql.NpgsqlParameter<string?>
                            {
                                TypedValue = null,
                                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb,
                            }
                        );
                    }

                    cmd.Parameters.Add(
                        new Npgsql.NpgsqlParameter<DateTime>
                        {
                            TypedValue = DateTime.UtcNow,
                            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz,
                        }
                    );
                }

                await cmd.PrepareAsync();
                if (way == "RawAsyncReader" || way == "RawAsync4")
                {
                    await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow);
                    await reader.ReadAsync();
                    _ = reader.GetInt64(0);
                }
                else
                {
                    await cmd.ExecuteNonQueryAsync();
                }
            }
        );
    }

    private static Task StoreRoundAsync(string way, Dictionary<string, SaveWay> ways, int age, int concurrency)
    {
        var services = ways[way].Services;
        var store = services.GetRequiredKeyedService<INewStore<NewProfile>>("OldProfile->NewProfile");
        var profiles = Enumerable
            .Range(0, SavesPerRound)
            .Select(i => new NewProfile($"{way}-{i:D6}", "Ada", "Lovelace", age))
            .ToArray();
        if (store is IOutboxNewStore<NewProfile> atomic)
        {
            return ConcurrentWork.RunAsync(
                profiles.Length,
                concurrency,
                i =>
                    atomic
                        .UpsertAndRecordAsync(
                            profiles[i].Id,
                            profiles[i],
                            new OutboxIntent(
                                "OldProfile->NewProfile",
                                OutboxItemKind.WriteBack,
                                profiles[i].Id,
                                null,
                                DateTimeOffset.UtcNow
                            )
                        )
                        .AsTask()
            );
        }

        return ConcurrentWork.RunAsync(
            profiles.Length,
            concurrency,
            i => store.UpsertAsync(profiles[i].Id, profiles[i]).AsTask()
        );
    }

    private static async Task CompareAsync(Dictionary<string, SaveWay> ways, int concurrency, int rounds)
    {
        int round = 0;
        AlternatingRounds measured = await AlternatingRounds.RunAsync(
            [.. ways.Keys],
            rounds,
            SavesPerRound,
            async way =>
            {
                var (_, repository, dispatcher) = ways[way];
                if (dispatcher is not null)
                {
                    await dispatcher.DrainAsync();
                }

                int age = ++round;
                if (way.StartsWith("Raw", StringComparison.Ordinal))
                {
                    return () => RawRoundAsync(way, ways, age, concurrency);
                }

                if (way.StartsWith("Store", StringComparison.Ordinal))
                {
                    return () => StoreRoundAsync(way, ways, age, concurrency);
                }

                NewProfile[] profiles =
                [
                    .. Enumerable
                        .Range(0, SavesPerRound)
                        .Select(i => new NewProfile($"{way}-{i:D6}", "Ada", "Lovelace", age)),
                ];
                return () =>
                    ConcurrentWork.RunAsync(
                        profiles.Length,
                        concurrency,
                        i => repository.SaveAsync(profiles[i].Id, profiles[i]).AsTask()
                    );
            }
        );
        double baseline = measured.Median(ways.Keys.First()).Micros;
        foreach (string way in ways.Keys)
        {
            var (micros, cpu, _) = measured.Median(way);
            var (min, max) = measured.Range(way);
            Console.WriteLine(
                $"c={concurrency} {way, -12} median {micros, 7:F1} us/save  throughput x{baseline / micros:F3} of"
                    + $" the first  "
                    + $"(min {min:F1}, max {max:F1})  client CPU {cpu, 6:F1} us/save"
            );
        }
    }

    /// <summary>A way of saving: its container, its repository, and its dispatcher when it writes back.</summary>
    private sealed record SaveWay(
        ServiceProvider Services,
        IMigratingRepository<OldProfile, NewProfile> Repository,
        IMigrationDispatcher<OldProfile, NewProfile>? Dispatcher
    );
}
