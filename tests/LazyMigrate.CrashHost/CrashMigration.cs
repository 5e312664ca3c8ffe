using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql;
using LazyMigrate.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.CrashHost;

/// <summary>
/// The child's migration: PostgreSQL old store (behind a gate on its writes), new store and outbox in one database,
/// advisory locks, and a handler that prints each event it is given (<c>EVENT &lt;id&gt; &lt;event id&gt;</c>) before
/// its own gate. Nothing dispatches unless a scenario asks: writes do not wake the dispatcher.
/// </summary>
internal sealed class CrashMigration
{
    private CrashMigration(ServiceProvider provider, CrashGate oldWrites, CrashGate handler)
    {
        Repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        OldWrites = oldWrites;
        Handler = handler;
    }

    public IMigratingRepository<LegacyCustomer, Customer> Repository { get; }

    public IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher { get; }

    /// <summary>The gate of every old-store write: the inline one of a Sync save, or the dispatcher's.</summary>
    public CrashGate OldWrites { get; }

    /// <summary>The gate of every event handled.</summary>
    public CrashGate Handler { get; }

    public static CrashMigration Build(CrashArguments arguments)
    {
        CrashGate oldWrites = CrashScenario.OldWritesGate(arguments);
        CrashGate handler = CrashScenario.HandlerGate(arguments);
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(arguments.ConnectionString);
        var mapper = new CustomerMapper();
        var oldOptions = new PostgreSqlDocumentStoreOptions { TableName = arguments.OldTable, CreateSchema = true };
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = CrashScenario.WriteBackOf(arguments))
            .UseMapper(mapper)
            .UseReverseMapper(mapper)
            .UseOldStore(_ => new GatedWritesOldStore<LegacyCustomer>(
                new PostgreSqlOldStore<LegacyCustomer>(dataSource, oldOptions),
                oldWrites
            ))
            .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (arguments.OutboxTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (arguments.NewTable, true), dataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: dataSource)
            .OnMigrated(
                (migrated, _) =>
                {
                    Console.Out.WriteLine($"EVENT {migrated.EntityId} {migrated.EventId}");
                    return new ValueTask(handler.PassOrHoldAsync());
                }
            )
            .ConfigureOutbox(o =>
            {
                o.DispatchOnWrite = false;
                o.LeaseDuration = arguments.Lease;

                // One claim takes every item; one write at a time, so the gate stops the batch after a known count.
                o.BatchSize = 1000;
                o.MaxParallelWrites = 1;
                o.HandlerTimeout = TimeSpan.FromHours(1);
            });
        return new CrashMigration(services.BuildServiceProvider(), oldWrites, handler);
    }
}
