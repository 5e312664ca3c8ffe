using System.Text.Json;

namespace LazyMigrate.Internal;

/// <summary>
/// What an <see cref="Outbox.OutboxItemKind.EntityMigrated"/> item carries: the values as of the migration (they may be
/// gone later), the trigger and the time of the insert, as JSON.
/// </summary>
internal sealed class EventPayload<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public required TOld Old { get; init; }

    public required TNew New { get; init; }

    public MigrationTrigger Trigger { get; init; }

    public DateTimeOffset MigratedAt { get; init; }

    public string ToJson(JsonSerializerOptions options) => JsonSerializer.Serialize(this, options);

    /// <exception cref="JsonException">The payload is not an event of this pair.</exception>
    public static EventPayload<TOld, TNew> FromJson(string? json, JsonSerializerOptions options) =>
        json is null
            ? throw new JsonException("The event item has no payload.")
            : JsonSerializer.Deserialize<EventPayload<TOld, TNew>>(json, options)
                ?? throw new JsonException("The event item's payload is null.");
}
