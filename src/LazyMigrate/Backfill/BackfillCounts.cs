namespace LazyMigrate.Backfill;

/// <summary>What a backfill did with the entities it scanned.</summary>
public readonly record struct BackfillCounts
{
    /// <summary>Gets how many old entities were scanned.</summary>
    public long Scanned { get; init; }

    /// <summary>Gets how many entities the backfill inserted into the new store.</summary>
    public long Migrated { get; init; }

    /// <summary>
    /// Gets how many entities the new store held already (migrated on demand, saved or deleted through the new API).
    /// </summary>
    public long AlreadyPresent { get; init; }

    /// <summary>Gets how many scanned entities the old store no longer held when their batch migrated.</summary>
    public long Vanished { get; init; }

    /// <summary>Gets how many entities were quarantined: the mapper failed or the old record is corrupt.</summary>
    public long Quarantined { get; init; }

    /// <summary>Adds two counts.</summary>
    /// <param name="left">The first counts.</param>
    /// <param name="right">The second counts.</param>
    /// <returns>The sums.</returns>
    public static BackfillCounts operator +(BackfillCounts left, BackfillCounts right) =>
        new()
        {
            Scanned = left.Scanned + right.Scanned,
            Migrated = left.Migrated + right.Migrated,
            AlreadyPresent = left.AlreadyPresent + right.AlreadyPresent,
            Vanished = left.Vanished + right.Vanished,
            Quarantined = left.Quarantined + right.Quarantined,
        };
}
