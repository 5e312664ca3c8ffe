namespace LazyMigrate.Backfill;

/// <summary>Where a backfill stands: saved after each committed batch, read when a run starts or resumes.</summary>
public sealed record BackfillCheckpoint
{
    /// <summary>Gets the migration name.</summary>
    public required string Migration { get; init; }

    /// <summary>
    /// Gets the last id of the last committed batch: a run resumes after it. <see langword="null"/> before the first.
    /// </summary>
    public string? Cursor { get; init; }

    /// <summary>Gets what the backfill did so far, over every run and instance.</summary>
    public BackfillCounts Counts { get; init; }

    /// <summary>Gets whether the scan reached the end of the old store.</summary>
    public bool IsComplete { get; init; }

    /// <summary>Gets when the checkpoint was saved, by the saver's clock.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}
