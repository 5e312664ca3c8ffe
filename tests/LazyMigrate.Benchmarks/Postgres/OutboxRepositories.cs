using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// A repository over the benchmark tables whose saves write back to the old table, <see cref="WriteBackMode.Async"/>
/// through a PostgreSQL outbox, or not at all (<see cref="WriteBackMode.None"/>), and its dispatcher.
/// </summary>
internal static class OutboxRepositories
{
    public const string OutboxTable = "outbox";

    /// <param name="bench">The server and tables.</param>
    /// <param name="mode">How saves write back.</param>
    /// <param name="dispatchOnWrite">
    /// Whether a save wakes the dispatcher in the background; off, the outbox waits for an explicit drain.
    /// </param>
    /// <param name="dataSource">The data source of the stores and the outbox, or <see langword="null"/> for the
    /// bench's.</param>
    public static async Task<(
        ServiceProvider Services,
        IMigratingRepository<OldProfile, NewProfile> Repository,
        IMigrationDispatcher<OldProfile, NewProfile> Dispatcher
    )> BuildAsync(
        PostgresBench bench,
        WriteBackMode mode,
        bool dispatchOnWrite = false,
        NpgsqlDataSource? dataSource = null
    )
    {
        (ServiceProvider services, var repository) = await PostgresRepositories.BuildAsync(
            bench,
            LockChoice.None,
            builder =>
            {
                builder.Configure(o => o.WriteBackMode = mode).UseReverseMapper(NewProfile.ToOld);
                if (mode != WriteBackMode.None)
                {
                    builder
                        .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (OutboxTable, true))
                        .ConfigureOutbox(o => o.DispatchOnWrite = dispatchOnWrite);
                }
            },
            dataSource
        );
        return (services, repository, services.GetRequiredService<IMigrationDispatcher<OldProfile, NewProfile>>());
    }
}
