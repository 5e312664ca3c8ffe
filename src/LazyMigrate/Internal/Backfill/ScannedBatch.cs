namespace LazyMigrate.Internal;

/// <summary>
/// One batch of a backfill's scan: the entities read, in the store's order, and the corrupt record that ended it, if
/// one did.
/// </summary>
internal sealed class ScannedBatch<TOld>(
    List<KeyValuePair<string, TOld>> entities,
    CorruptEntityException? corrupt,
    bool end
)
    where TOld : class
{
    public List<KeyValuePair<string, TOld>> Entities { get; } = entities;

    /// <summary>The corrupt record after <see cref="Entities"/>, which the scan resumes after.</summary>
    public CorruptEntityException? Corrupt { get; } = corrupt;

    /// <summary>Whether the scan reached the end of the store.</summary>
    public bool End { get; } = end;

    /// <summary>The id the scan resumes after: the corrupt record's, else the last entity's.</summary>
    public string? LastId => Corrupt?.EntityId ?? (Entities.Count > 0 ? Entities[^1].Key : null);

    /// <summary>How many records the batch covers, the corrupt one included.</summary>
    public int Scanned => Entities.Count + (Corrupt is null ? 0 : 1);
}
