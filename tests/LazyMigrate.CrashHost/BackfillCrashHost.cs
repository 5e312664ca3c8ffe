using LazyMigrate.Backfill;
using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.CrashHost;

/// <summary>
/// The backfill crash scenario (<c>backfill</c>): runs the migration's backfill over PostgreSQL to its end while a
/// dispatcher delivers its events, printing <c>PROGRESS &lt;scanned&gt; &lt;scanned before this run&gt;</c> after each
/// checkpoint, <c>EVENT &lt;id&gt; &lt;event id&gt;</c> for each event handled and, at the end,
/// <c>DONE &lt;scanned&gt; &lt;migrated&gt; &lt;already present&gt; &lt;quarantined&gt;</c> (the checkpoint's totals).
/// The test kills it with SIGKILL wherever it is and starts it again; it never stops on its own before the end.
/// </summary>
internal static class BackfillCrashHost
{
    public const string Point = "backfill";

    public static async Task RunAsync(string[] args)
    {
        var arguments = new KeyValueArguments(args.Skip(1));
        TimeSpan lease = TimeSpan.FromSeconds(arguments.Number("lease-seconds", 4));
        int batchSize = arguments.Number("batch-size", 500);
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(arguments.Required("connection"));
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = arguments.Required("old"), dataSource)
            .UsePostgreSqlOutbox(o => o.TableName = arguments.Required("outbox"))
            .UsePostgreSqlNewStore(o => o.TableName = arguments.Required("new"), dataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: dataSource)
            .UsePostgreSqlBackfillCheckpoints(
                o =>
                    (o.TableName, o.QuarantineTableName) = (
                        arguments.Required("checkpoints"),
                        arguments.Required("quarantine")
                    ),
                dataSource
            )
            .OnMigrated(
                (migrated, _) =>
                {
                    Console.Out.WriteLine($"EVENT {migrated.EntityId} {migrated.EventId}");
                    return ValueTask.CompletedTask;
                }
            )
            .ConfigureOutbox(o => (o.DispatchOnWrite, o.LeaseDuration) = (false, lease))
            .ConfigureBackfill(o =>
            {
                (o.InitialBatchSize, o.MinBatchSize, o.MaxBatchSize) = (batchSize, batchSize, batchSize);
                (o.LeaseDuration, o.LeasePollInterval) = (lease, TimeSpan.FromMilliseconds(100));
                o.InstanceId = arguments.Required("instance");
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        var runner = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

        using var stop = new CancellationTokenSource();
        Task delivering = DeliverUntilStoppedAsync(dispatcher, stop.Token);
        BackfillSummary summary = await runner.RunAsync(new PrintedProgress());
        BackfillCounts total = summary.Total;
        await stop.CancelAsync();
        await delivering;
        Console.Out.WriteLine($"DONE {total.Scanned} {total.Migrated} {total.AlreadyPresent} {total.Quarantined}");
    }

    /// <summary>Delivers events beside the backfill, as a hosted dispatcher would.</summary>
    private static async Task DeliverUntilStoppedAsync(
        IMigrationDispatcher<LegacyCustomer, Customer> dispatcher,
        CancellationToken stop
    )
    {
        try
        {
            while (true)
            {
                if (await dispatcher.RunOnceAsync(stop) == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }

    /// <summary>Prints each report on the runner's own thread, in order.</summary>
    private sealed class PrintedProgress : IProgress<BackfillProgress>
    {
        public void Report(BackfillProgress value) =>
            Console.Out.WriteLine($"PROGRESS {value.Counts.Scanned} {value.Earlier.Scanned}");
    }
}
