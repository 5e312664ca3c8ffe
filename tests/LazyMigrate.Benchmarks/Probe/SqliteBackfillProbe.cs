using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using LazyMigrate.Backfill;
using LazyMigrate.Benchmarks.Backfill;
using LazyMigrate.Benchmarks.Postgres;
using LazyMigrate.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// Where the time of the SQLite backfill goes: <c>--probe-sqlite-backfill N</c>. On one file of N legacy rows it times,
/// each after a warm-up run, the hand-written loop, the backfill (<c>UseInMemoryLock</c>, batches of 1,000) with every
/// EF Core command it sends counted and timed by an interceptor (the time to execute the command; a reader's rows are
/// read after it), a bare <c>ScanAsync</c> of the old store, and bare <c>InsertManyIfAbsentAsync</c> calls of the new
/// store, 1,000 entities a call, of the entities mapped beforehand. The parts do not add up to the whole: the backfill
/// reads the next batch while it inserts one.
/// </summary>
internal static class SqliteBackfillProbe
{
    public static async Task RunAsync(string[] args)
    {
        int rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000;
        using SqliteBackfill bench = await SqliteBackfill.CreateAsync(rows);
        var handWritten = new HandWrittenSqliteBackfill(bench.ConnectionString);
        var timer = new CommandTimer();
        var saves = new SaveChangesTimer();
        for (int round = 0; round < 2; round++)
        {
            bool measured = round == 1;
            bench.EmptyNewTables();
            var clock = Stopwatch.StartNew();
            await handWritten.RunAsync();
            Report(measured, "hand-written loop", clock.Elapsed, rows);

            bench.EmptyNewTables();
            timer.Clear();
            saves.Clear();
            await using (ServiceProvider services = bench.Build(SqliteBackfillChoice.InMemoryLock, timer, saves))
            {
                clock.Restart();
                BackfillSummary summary = await SqliteBackfill.Runner(services).RunAsync();
                Report(measured, "backfill (UseInMemoryLock)", clock.Elapsed, rows);
                if (summary.Counts.Migrated != rows)
                {
                    throw new InvalidOperationException($"{summary.Counts.Migrated} of {rows} migrated.");
                }
            }

            if (measured)
            {
                Console.WriteLine(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"    SaveChanges: {saves.Count} calls, {saves.Milliseconds:F0} ms from start to end"
                    ) + " (the INSERT commands below included)"
                );
                foreach (
                    (string statement, (long count, double ms)) in timer.Statements.OrderByDescending(s => s.Value.Ms)
                )
                {
                    Console.WriteLine(
                        string.Create(CultureInfo.InvariantCulture, $"    {count, 6} x {ms, 8:F0} ms  {statement}")
                    );
                }
            }

            bench.EmptyNewTables();
            // The stores over the very context factories the backfill's container uses (AddDbContextFactory).
            await using ServiceProvider factories = bench.Build(SqliteBackfillChoice.WithoutLock);
            var legacy = factories.GetRequiredService<IDbContextFactory<SqliteLegacyDb>>();
            var oldStore = new EntityFrameworkCoreOldStore<SqliteLegacyDb, LegacyCustomer, int>(
                legacy,
                db => db.Customers,
                c => c.Id
            );
            var mapped = new List<KeyValuePair<string, BackfilledCustomer>>(rows);
            clock.Restart();
            await foreach ((string id, LegacyCustomer old) in oldStore.ScanAsync(null))
            {
                mapped.Add(new(id, BackfilledCustomer.From(old)));
            }

            Report(measured, "bare ScanAsync (and the mapper)", clock.Elapsed, rows);

            var customers = factories.GetRequiredService<IDbContextFactory<SqliteBackfillDb>>();
            var newStore = new EntityFrameworkCoreNewStore<SqliteBackfillDb, BackfilledCustomer, string>(
                customers,
                db => db.Customers
            );
            clock.Restart();
            foreach (
                KeyValuePair<string, BackfilledCustomer>[] batch in mapped.Chunk(HandWrittenSqliteBackfill.BatchSize)
            )
            {
                await newStore.InsertManyIfAbsentAsync(batch);
            }

            Report(measured, "bare InsertManyIfAbsentAsync, 1,000 a call", clock.Elapsed, rows);
            bench.CheckCount(rows);
        }
    }

    private static void Report(bool measured, string what, TimeSpan elapsed, int rows)
    {
        if (measured)
        {
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{what}: {elapsed.TotalMilliseconds:F0} ms, {elapsed.TotalMicroseconds / rows:F1} us a row, "
                        + $"{rows / elapsed.TotalSeconds:F0} rows/s"
                )
            );
        }
    }

    /// <summary>Counts <c>SaveChanges</c> calls and adds up their time from start to end, commands included.</summary>
    private sealed class SaveChangesTimer : SaveChangesInterceptor
    {
        private readonly ConcurrentDictionary<DbContext, long> _started = new();
        private long _count;
        private long _ticks;

        public long Count => Interlocked.Read(ref _count);

        public double Milliseconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks)).TotalMilliseconds;

        public void Clear() => (_count, _ticks) = (0, 0);

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
            DbContextEventData eventData,
            InterceptionResult<int> result,
            CancellationToken cancellationToken = default
        )
        {
            _started[eventData.Context!] = Stopwatch.GetTimestamp();
            return ValueTask.FromResult(result);
        }

        public override ValueTask<int> SavedChangesAsync(
            SaveChangesCompletedEventData eventData,
            int result,
            CancellationToken cancellationToken = default
        )
        {
            Stop(eventData.Context!);
            return ValueTask.FromResult(result);
        }

        public override Task SaveChangesFailedAsync(
            DbContextErrorEventData eventData,
            CancellationToken cancellationToken = default
        )
        {
            Stop(eventData.Context!);
            return Task.CompletedTask;
        }

        private void Stop(DbContext context)
        {
            if (_started.TryRemove(context, out long started))
            {
                Interlocked.Increment(ref _count);
                Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - started);
            }
        }
    }

    /// <summary>Counts and times every command EF Core executes, by the first 70 characters of its text.</summary>
    private sealed class CommandTimer : DbCommandInterceptor
    {
        public ConcurrentDictionary<string, (long Count, double Ms)> Statements { get; } = new();

        public void Clear() => Statements.Clear();

        public override ValueTask<DbDataReader> ReaderExecutedAsync(
            DbCommand command,
            CommandExecutedEventData eventData,
            DbDataReader result,
            CancellationToken cancellationToken = default
        )
        {
            Record(command, eventData);
            return ValueTask.FromResult(result);
        }

        public override DbDataReader ReaderExecuted(
            DbCommand command,
            CommandExecutedEventData eventData,
            DbDataReader result
        )
        {
            Record(command, eventData);
            return result;
        }

        public override ValueTask<int> NonQueryExecutedAsync(
            DbCommand command,
            CommandExecutedEventData eventData,
            int result,
            CancellationToken cancellationToken = default
        )
        {
            Record(command, eventData);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<object?> ScalarExecutedAsync(
            DbCommand command,
            CommandExecutedEventData eventData,
            object? result,
            CancellationToken cancellationToken = default
        )
        {
            Record(command, eventData);
            return ValueTask.FromResult(result);
        }

        private void Record(DbCommand command, CommandExecutedEventData eventData)
        {
            string text = command.CommandText.ReplaceLineEndings(" ");
            string key = text.Length > 70 ? text[..70] : text;
            Statements.AddOrUpdate(
                key,
                (1, eventData.Duration.TotalMilliseconds),
                (_, s) => (s.Count + 1, s.Ms + eventData.Duration.TotalMilliseconds)
            );
        }
    }
}
