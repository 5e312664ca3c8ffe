namespace LazyMigrate;

/// <summary>
/// An old store refused a write-back because the entity was written through the old API after the write-back's intent:
/// the old store stays as that later write left it, and nothing of the refused call was written.
/// </summary>
/// <remarks>
/// An old store that can tell (the PostgreSQL old stores, with the forward sync trigger's order check) throws it from a
/// write-back. LazyMigrate does not fail the write-back for it, nor retry it, whatever the old store's resilience
/// pipeline: the dispatcher completes it as skipped (the <c>superseded</c> reason of
/// <see cref="LazyMigrateTelemetry.OutboxSkippedInstrument"/>), a <see cref="WriteBackMode.Sync"/> save returns as
/// saved, and the forward sync of the later write brings the new store up to it: the write that came last wins in both
/// stores. A batched write (<see cref="IBatchWritingOldStore{TOld}"/>) that throws it wrote none of its entities;
/// LazyMigrate then writes each alone, so that only the refused ones are left out. A write of one entity must throw it
/// naming that entity, the id as it was given (<see cref="EntityCount"/> 1); any other is taken for a failure.
/// </remarks>
public sealed class WriteBackSupersededException : LazyMigrationException
{
    /// <summary>Initializes a new instance of the <see cref="WriteBackSupersededException"/> class.</summary>
    /// <param name="entityId">The entity refused, or the first of the entities of a batched write.</param>
    /// <param name="cause">What the old store found, for example the old-API write's table.</param>
    /// <param name="innerException">The old store's own refusal, if any.</param>
    /// <param name="entityCount">
    /// How many entities the refused call was given (a batched write, <paramref name="entityId"/> first); at least one
    /// of them, not necessarily the first, was written through the old API after its write-back's intent.
    /// </param>
    public WriteBackSupersededException(
        string entityId,
        string cause,
        Exception? innerException = null,
        int entityCount = 1
    )
        : base(entityId, Describe(entityId, entityCount) + cause, innerException)
    {
        EntityCount = entityCount;
    }

    /// <summary>
    /// Gets how many entities the refused call was given: more than one for a batched write, whose first id is
    /// <see cref="LazyMigrationException.EntityId"/>.
    /// </summary>
    public int EntityCount { get; }

    private static string Describe(string entityId, int entityCount) =>
        entityCount > 1
            ? $"The write-back of a batch of {entityCount} entities starting with '{entityId}' was refused, none "
                + "written: one of them was written through the old API after its write-back's intent. "
            : $"The write-back of entity '{entityId}' was refused: it was written through the old API after the "
                + "write-back's intent, and the old store keeps that write. ";
}
