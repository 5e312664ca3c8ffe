using System.Runtime.ExceptionServices;

namespace LazyMigrate.Internal;

/// <summary>
/// An old store's refusal of a superseded write-back (<see cref="WriteBackSupersededException"/>): carried through the
/// resilience pipeline as a value, so that no strategy takes it for a failure, thrown again once the pipeline is done,
/// and matched to the id whose write-back the dispatcher and the write path complete as skipped.
/// </summary>
internal static class WriteBackRefusal
{
    /// <summary>Runs <paramref name="writeBack"/>; returns the store's refusal of it, or null when it is written.
    /// </summary>
    public static async ValueTask<WriteBackSupersededException?> AsValueAsync<TState>(
        Func<TState, CancellationToken, ValueTask> writeBack,
        TState state,
        CancellationToken cancellationToken
    )
    {
        try
        {
            await writeBack(state, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (WriteBackSupersededException refused)
        {
            return refused;
        }
    }

    /// <summary>Throws the refusal <see cref="AsValueAsync"/> returned, its stack kept.</summary>
    public static async ValueTask<bool> ThrowIfRefused(this ValueTask<WriteBackSupersededException?> writeBack)
    {
        if (await writeBack.ConfigureAwait(false) is { } refused)
        {
            ExceptionDispatchInfo.Throw(refused);
        }

        return true;
    }

    /// <summary>
    /// Whether the refusal is of the write-back of <paramref name="id"/> alone, as a single write must name it: any
    /// other is taken for a failure.
    /// </summary>
    public static bool IsOf(this WriteBackSupersededException refused, string id) =>
        refused.EntityCount == 1 && string.Equals(refused.EntityId, id, StringComparison.Ordinal);
}
