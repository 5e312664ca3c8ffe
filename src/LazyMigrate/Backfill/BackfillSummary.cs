namespace LazyMigrate.Backfill;

/// <summary>What one <see cref="IBackfillRunner{TOld, TNew}.RunAsync"/> call did.</summary>
public sealed record BackfillSummary
{
    /// <summary>Gets the migration name.</summary>
    public required string Migration { get; init; }

    /// <summary>Gets what this call did.</summary>
    public BackfillCounts Counts { get; init; }

    /// <summary>Gets what the backfill did over every run and instance, from its checkpoint.</summary>
    public BackfillCounts Total { get; init; }

    /// <summary>Gets whether the backfill reached the end of the old store, in this call or before.</summary>
    public bool IsComplete { get; init; }

    /// <summary>Gets how many batches this call committed.</summary>
    public int Batches { get; init; }

    /// <summary>Gets how long the call took.</summary>
    public TimeSpan Elapsed { get; init; }
}
