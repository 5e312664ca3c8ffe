using LazyMigrate.Outbox;
using LazyMigrate.QuickStart;

namespace LazyMigrate.WebService;

/// <summary>Where one migration stands: what moved, what waits in its outbox, what failed for good.</summary>
/// <param name="Name">The migration's name.</param>
/// <param name="WriteBack">The write-back mode: <c>Sync</c> or <c>Async</c>.</param>
/// <param name="EntitiesMigrated">Customers the new store holds.</param>
/// <param name="WriteBacksPending">Write-backs not yet applied to the legacy table.</param>
/// <param name="ForwardSyncsPending">Old-API writes not yet brought to the new store.</param>
/// <param name="EventsPending">EntityMigrated events not yet delivered.</param>
/// <param name="OldestPendingAgeSeconds">Age of the oldest pending item: the lag; 0 when none is pending.</param>
/// <param name="DeadLetters">Items that failed every attempt, waiting for a replay.</param>
/// <param name="Applied">Items this process's dispatcher applied since it started, by kind.</param>
/// <param name="Skipped">Items it completed without a write, by kind and reason.</param>
public sealed record MigrationStatus(
    string Name,
    string WriteBack,
    long EntitiesMigrated,
    long WriteBacksPending,
    long ForwardSyncsPending,
    long EventsPending,
    double OldestPendingAgeSeconds,
    long DeadLetters,
    IReadOnlyDictionary<string, long> Applied,
    IReadOnlyDictionary<string, long> Skipped
);

/// <summary><c>GET /status</c>: per migration (this service has one), a <see cref="MigrationStatus"/>.</summary>
public static class Status
{
    public static void MapStatus(this IEndpointRouteBuilder app) =>
        app.MapGet(
            "/status",
            async (
                IMigrationDispatcher<LegacyCustomer, Customer> dispatcher,
                ServiceDatabase database,
                ServiceSettings settings,
                OutboxCounters counters,
                TimeProvider time,
                IServiceProvider services,
                CancellationToken ct
            ) =>
            {
                OutboxStatistics outbox = await dispatcher.GetStatisticsAsync(ct);
                long Pending(OutboxItemKind kind) => outbox.Pending.GetValueOrDefault(kind);
                DateTimeOffset now = time.GetUtcNow();
                double oldest = outbox
                    .OldestPendingRecordedAt.Values.Select(at => (now - at).TotalSeconds)
                    .DefaultIfEmpty(0)
                    .Max();
                var status = new MigrationStatus(
                    dispatcher.MigrationName,
                    settings.WriteBack.ToString(),
                    await database.CountMigratedAsync(services, ct),
                    Pending(OutboxItemKind.WriteBack),
                    Pending(OutboxItemKind.ForwardSync),
                    Pending(OutboxItemKind.EntityMigrated),
                    Math.Max(0, oldest),
                    outbox.DeadLettered.Values.Sum(),
                    counters.Applied,
                    counters.Skipped
                );
                return Results.Ok(new { Migrations = new[] { status } });
            }
        );
}
