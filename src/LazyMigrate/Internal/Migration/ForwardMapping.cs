namespace LazyMigrate.Internal;

/// <summary>
/// A migration's forward sync mapping: its merger, which also sees the new store's current entity, else its mapper.
/// </summary>
internal sealed class ForwardMapping<TOld, TNew>(
    IMigrationMapper<TOld, TNew> mapper,
    IMigrationMerger<TOld, TNew>? merger
)
    where TOld : class
    where TNew : class
{
    /// <summary>Gets the migration's merger (its own, else the container's), falling back on its mapper.</summary>
    public static ForwardMapping<TOld, TNew> Find(
        IServiceProvider services,
        string migration,
        IMigrationMapper<TOld, TNew> mapper
    ) => new(mapper, MigrationServices.Find<IMigrationMerger<TOld, TNew>>(services, migration));

    /// <summary>
    /// Builds the new store's entity from the old record and the new store's current entity (<see langword="null"/>
    /// when it holds a tombstone: the mapper then maps the record as a migration would). A failure is a
    /// <see cref="MigrationMappingException"/> naming the id.
    /// </summary>
    public TNew ToNew(string migration, string id, TOld entity, TNew? current) =>
        merger is null || current is null
            ? Mapping.Run(migration, id, "mapper", mapper.Map, entity)
            : Mapping.Run(
                migration,
                id,
                "merger",
                static input => input.Merger.Merge(input.Entity, input.Current),
                (Merger: merger, Entity: entity, Current: current)
            );
}
