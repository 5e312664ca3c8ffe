using System.Diagnostics;

namespace LazyMigrate.Internal;

/// <summary>
/// The trace of one group of shared work. The work runs in an empty execution context (see
/// <see cref="SingleFlight{TResult}"/>), so the activity of the caller that started it is handed over explicitly as
/// <see cref="Parent"/>; the span the work starts is kept for the callers that join it to link to.
/// </summary>
internal sealed class FlightTrace(ActivityContext parent)
{
    private Activity? _span;

    /// <summary>Gets the context of the starting caller's activity; default when it had none.</summary>
    public ActivityContext Parent { get; } = parent;

    /// <summary>Gets the span of the work, once started; null when nobody listens.</summary>
    public Activity? Span => Volatile.Read(ref _span);

    /// <summary>
    /// Starts the work's span as a child of <see cref="Parent"/>; it becomes <see cref="Activity.Current"/> of the
    /// work.
    /// </summary>
    public Activity? StartMigrate(string migration, IReadOnlyList<string> ids)
    {
        Activity? span = MigrationActivity.StartMigrate(migration, ids, Parent);
        Volatile.Write(ref _span, span);
        return span;
    }
}
