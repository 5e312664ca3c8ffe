namespace LazyMigrate.Backfill;

/// <summary>What a dry run found: every old entity mapped, nothing written.</summary>
public sealed record BackfillDryRunReport
{
    /// <summary>Gets the migration name.</summary>
    public required string Migration { get; init; }

    /// <summary>Gets how many old entities were scanned.</summary>
    public long Scanned { get; init; }

    /// <summary>Gets how many mapped.</summary>
    public long Mapped { get; init; }

    /// <summary>Gets how many failed: the mapper threw, or the old record is corrupt. All are counted.</summary>
    public long Failed { get; init; }

    /// <summary>
    /// Gets the first failures in full (<see cref="BackfillOptions.DryRunFailuresKept"/> at most), in id order.
    /// </summary>
    public required IReadOnlyList<QuarantinedEntity> Failures { get; init; }

    /// <summary>Gets how long the dry run took.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Gets the entities mapped per second.</summary>
    public double EntitiesPerSecond => Elapsed > TimeSpan.Zero ? Scanned / Elapsed.TotalSeconds : 0;
}
