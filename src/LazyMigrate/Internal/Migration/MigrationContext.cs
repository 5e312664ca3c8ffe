using Microsoft.Extensions.Logging;

namespace LazyMigrate.Internal;

/// <summary>Everything one migration's components share, resolved once when the repository is created.</summary>
internal sealed class MigrationContext<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public required string Name { get; init; }

    public required LazyMigrationOptions Options { get; init; }

    public required ResilientStores<TOld, TNew> Stores { get; init; }

    public required IMigrationMapper<TOld, TNew> Mapper { get; init; }

    public ReverseMapping<TOld, TNew>? ReverseMapping { get; init; }

    public required ForwardMapping<TOld, TNew> ForwardMapping { get; init; }

    public required OutboxContext Outbox { get; init; }

    public required NegativeCache NegativeCache { get; init; }

    public required MigrationMetrics Metrics { get; init; }

    public required TimeProvider TimeProvider { get; init; }

    public required ILogger Logger { get; init; }
}
