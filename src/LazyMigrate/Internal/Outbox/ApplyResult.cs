namespace LazyMigrate.Internal;

/// <summary>
/// What applying some ids' items did: the ids that failed, with their failures, and the ids completed without a write,
/// with the reason (<c>superseded</c>, <c>unchanged</c>, <c>not_migrated</c>). The other ids were applied.
/// </summary>
/// <remarks>Filled by steps that run in parallel: add through <see cref="Fail"/> and <see cref="Skip"/>.</remarks>
internal sealed class ApplyResult
{
    public Dictionary<string, Exception> Failures { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Skipped { get; } = new(StringComparer.Ordinal);

    public void Fail(string id, Exception failure)
    {
        lock (Failures)
        {
            Failures[id] = failure;
        }
    }

    /// <summary>Records a failure of every id that has none yet: a step that failed for all of them at once.</summary>
    public void FailAll(IEnumerable<string> ids, Exception failure)
    {
        lock (Failures)
        {
            foreach (string id in ids)
            {
                Failures.TryAdd(id, failure);
            }
        }
    }

    public void Skip(string id, string reason)
    {
        lock (Skipped)
        {
            Skipped[id] = reason;
        }
    }
}
