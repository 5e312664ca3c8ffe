namespace LazyMigrate.Outbox;

/// <summary>What an outbox item brings up to date.</summary>
/// <remarks>The values are stored: they never change meaning, and new kinds take new values.</remarks>
public enum OutboxItemKind
{
    /// <summary>
    /// Copy the entity's current new-store state (or its deletion) to the old store, through the reverse mapping.
    /// State-based: the item names the entity, not a payload, and one item per entity coalesces every pending write.
    /// </summary>
    WriteBack = 1,

    /// <summary>
    /// Deliver <see cref="EntityMigrated{TOld, TNew}"/> to the handlers: the item carries the old and new values as of
    /// the migration in its <see cref="OutboxIntent.Payload"/>, because they may be gone later.
    /// </summary>
    EntityMigrated = 2,

    /// <summary>
    /// Copy the entity's current old-store state (or its deletion) to the new store, through the migration's merger,
    /// for an entity the new store holds: a write made through the old API, which new readers must see. State-based
    /// and coalesced per entity, as a write-back is; an entity the new store lacks needs nothing (it migrates later,
    /// from fresh data). Of a write-back and a forward sync pending for one entity, the one recorded last (the greater
    /// <see cref="OutboxItem.Sequence"/>) wins, and the other is dropped unapplied.
    /// </summary>
    ForwardSync = 3,
}
