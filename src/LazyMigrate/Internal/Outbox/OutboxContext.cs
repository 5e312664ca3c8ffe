using System.Text.Json;
using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>What the write paths, the migrator and the dispatcher of one migration share about its outbox.</summary>
internal sealed class OutboxContext
{
    public required OutboxOptions Options { get; init; }

    /// <summary>Gets whether the migration has event handlers: without any, no event is recorded.</summary>
    public required bool HasHandlers { get; init; }

    /// <summary>Gets whether an outbox was registered, rather than the in-process one every migration has.</summary>
    public required bool IsRegistered { get; init; }

    public JsonSerializerOptions SerializerOptions => Options.SerializerOptions ?? JsonSerializerOptions.Default;

    /// <summary>Wakes this process's dispatcher after an intent was recorded, if the options say so.</summary>
    public Action Wake { get; set; } = static () => { };
}
