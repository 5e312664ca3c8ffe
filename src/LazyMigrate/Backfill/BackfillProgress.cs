namespace LazyMigrate.Backfill;

/// <summary>How far a backfill or a dry run has come; reported after each batch.</summary>
public sealed record BackfillProgress
{
    /// <summary>Gets the migration name.</summary>
    public required string Migration { get; init; }

    /// <summary>Gets what this run did so far.</summary>
    public BackfillCounts Counts { get; init; }

    /// <summary>Gets what the backfill did before this run, from its checkpoint (zero for a dry run).</summary>
    public BackfillCounts Earlier { get; init; }

    /// <summary>
    /// Gets how many old entities were left after the cursor when this run started, if the old store can count them
    /// (<see cref="IOldStoreCounter{TOld}"/>).
    /// </summary>
    public long? Remaining { get; init; }

    /// <summary>Gets how long this run has taken.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Gets the entities scanned per second in this run.</summary>
    public double EntitiesPerSecond => Elapsed > TimeSpan.Zero ? Counts.Scanned / Elapsed.TotalSeconds : 0;

    /// <summary>Gets the time left at this run's rate, if the old store can count what is left.</summary>
    public TimeSpan? EstimatedTimeLeft =>
        Remaining is { } remaining && EntitiesPerSecond > 0
            ? TimeSpan.FromSeconds(Math.Max(0, remaining - Counts.Scanned) / EntitiesPerSecond)
            : null;

    /// <summary>Gets the size of the last batch.</summary>
    public int BatchSize { get; init; }
}
