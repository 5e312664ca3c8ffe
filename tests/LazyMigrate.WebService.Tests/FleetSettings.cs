namespace LazyMigrate.WebService.Tests;

/// <summary>What a run of the fleet promises, from the service's configuration, and its size.</summary>
/// <param name="V2WritesAtOnceOnV1">Sync write-back: a v2 write is on v1 when its call returns.</param>
/// <param name="V1WritesAtOnceOnV2">
/// Both tables in one PostgreSQL database: the capture trigger marks the new store's row stale, so the next v2 read
/// syncs it.
/// </param>
/// <param name="Seed">The seed of every client's random choices; a failing run prints it.</param>
public sealed record FleetSettings(bool V2WritesAtOnceOnV1, bool V1WritesAtOnceOnV2, int Seed)
{
    /// <summary>Gets the number of clients running at once.</summary>
    public int Clients { get; init; } = 16;

    /// <summary>Gets the number of customer ids the clients share: 1 to this.</summary>
    public int Ids { get; init; } = 200;

    /// <summary>Gets the requests (reads, saves, deletes) each client makes.</summary>
    public int OperationsPerClient { get; init; } = 60;

    /// <summary>Gets which clients switch back to v1 after switching to v2: every this-many-th.</summary>
    public int RollbackEvery { get; init; } = 5;

    /// <summary>
    /// Gets the share of writes after which the client waits until the other API shows them, where that is not at
    /// once: the lag samples. The other writes leave their write-back or forward sync pending for the next write to
    /// the id to race with.
    /// </summary>
    public double ProbeShare { get; init; } = 0.5;

    /// <summary>Gets how long a write may take to show through the other API, or the outbox to drain.</summary>
    public TimeSpan LagBound { get; init; } = TimeSpan.FromSeconds(30);
}
