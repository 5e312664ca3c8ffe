using System.Diagnostics;

namespace LazyMigrate.Internal;

/// <summary>
/// The <c>LazyMigrate</c> activity source. Activities start only off the hot path: one per migration batch.
/// </summary>
internal static class MigrationActivity
{
    public static readonly ActivitySource Source = new(LazyMigrateTelemetry.ActivitySourceName, LibraryVersion.Value);

    /// <summary>
    /// Starts the span of a migration batch, a child of <paramref name="parent"/> (none: a trace of its own).
    /// </summary>
    public static Activity? StartMigrate(string migration, IReadOnlyList<string> ids, ActivityContext parent)
    {
        Activity? activity = Source.StartActivity("LazyMigrate migrate", ActivityKind.Internal, parent);
        Tag(activity, migration, ids);
        return activity;
    }

    /// <summary>One span per batch a dispatcher claimed; the stores' spans nest beneath it.</summary>
    public static Activity? StartDispatch(string migration, int items)
    {
        Activity? activity = Source.StartActivity("LazyMigrate dispatch", ActivityKind.Internal);
        activity?.SetTag("lazymigrate.migration", migration);
        activity?.SetTag("lazymigrate.outbox.items", items);
        return activity;
    }

    /// <summary>
    /// Records the wait of a caller that joined migrations others started: a child of the caller's current activity,
    /// linked to the span of each migration it waited on, from <paramref name="since"/> to <paramref name="until"/>
    /// (real time). <paramref name="failure"/>, the caller's own or one a joined migration returned, sets the error
    /// status.
    /// </summary>
    public static void RecordJoin(
        string migration,
        IReadOnlyList<string> ids,
        List<ActivityLink> links,
        DateTimeOffset since,
        DateTimeOffset until,
        Exception? failure
    )
    {
        // No parent context given: the parent is the caller's current activity.
        using Activity? activity = Source.StartActivity(
            "LazyMigrate join",
            ActivityKind.Internal,
            parentContext: default,
            links: links,
            startTime: since
        );
        if (activity is null)
        {
            return;
        }

        Tag(activity, migration, ids);
        if (failure is not null and not OperationCanceledException)
        {
            activity.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
        }

        activity.SetEndTime(until.UtcDateTime);
    }

    private static void Tag(Activity? activity, string migration, IReadOnlyList<string> ids)
    {
        activity?.SetTag("lazymigrate.migration", migration);
        activity?.SetTag("lazymigrate.entity_id", ids.Count == 1 ? ids[0] : $"{ids.Count} entities");
    }
}
