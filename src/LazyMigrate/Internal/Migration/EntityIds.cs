namespace LazyMigrate.Internal;

/// <summary>
/// Checks the ids callers pass in before anything reaches a store or a lock, the same way for every call.
/// </summary>
internal static class EntityIds
{
    /// <exception cref="ArgumentException"><paramref name="id"/> is null or empty.</exception>
    /// <exception cref="InvalidEntityIdException">No store can key on the id (a NUL character, a lone
    /// surrogate).</exception>
    public static void ThrowIfInvalid(string id, string paramName = "id")
    {
        ArgumentException.ThrowIfNullOrEmpty(id, paramName);
        InvalidEntityIdException.ThrowIfInvalid(id);
    }

    /// <summary>Validates the ids and drops duplicates, keeping the first order.</summary>
    public static List<string> Distinct(IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var distinct = new List<string>();
        foreach (string id in ids)
        {
            ThrowIfInvalid(id, nameof(ids));
            if (seen.Add(id))
            {
                distinct.Add(id);
            }
        }

        return distinct;
    }
}
