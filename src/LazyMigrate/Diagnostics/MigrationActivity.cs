using System.Diagnostics;

namespace LazyMigrate;

/// <summary>The <c>LazyMigrate</c> activity source. Activities start only off the hot path: one per migration batch.</summary>
internal static class MigrationActivity
{
    public static readonly ActivitySource Source = new(LazyMigrateTelemetry.ActivitySourceName);

    public static Activity? Start(string operation, string migration, string entityId)
    {
        Activity? activity = Source.StartActivity($"LazyMigrate {operation}", ActivityKind.Internal);
        activity?.SetTag("lazymigrate.migration", migration);
        activity?.SetTag("lazymigrate.entity_id", entityId);
        return activity;
    }
}
