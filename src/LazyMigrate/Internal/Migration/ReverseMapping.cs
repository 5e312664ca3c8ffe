namespace LazyMigrate.Internal;

/// <summary>
/// A migration's one reverse mapping, as the write path uses it: a reverse mapper, which needs only the new entity, or
/// a reverse merger, which also needs the old store's current record.
/// </summary>
internal sealed class ReverseMapping<TOld, TNew>
    where TOld : class
    where TNew : class
{
    private readonly IReverseMigrationMapper<TOld, TNew>? _mapper;
    private readonly IReverseMigrationMerger<TOld, TNew>? _merger;

    private ReverseMapping(IReverseMigrationMapper<TOld, TNew>? mapper, IReverseMigrationMerger<TOld, TNew>? merger)
    {
        _mapper = mapper;
        _merger = merger;
    }

    /// <summary>
    /// Gets the migration's reverse mapping: its own mapper or merger (the builder keeps one of the two), else the
    /// container's, where a merger wins over a mapper (one class may implement both); <see langword="null"/> if none.
    /// </summary>
    public static ReverseMapping<TOld, TNew>? Find(IServiceProvider services, string migration)
    {
        if (MigrationServices.FindOwn<IReverseMigrationMerger<TOld, TNew>>(services, migration) is { } ownMerger)
        {
            return new ReverseMapping<TOld, TNew>(null, ownMerger);
        }

        if (MigrationServices.FindOwn<IReverseMigrationMapper<TOld, TNew>>(services, migration) is { } ownMapper)
        {
            return new ReverseMapping<TOld, TNew>(ownMapper, null);
        }

        if (MigrationServices.FindShared<IReverseMigrationMerger<TOld, TNew>>(services) is { } merger)
        {
            return new ReverseMapping<TOld, TNew>(null, merger);
        }

        return MigrationServices.FindShared<IReverseMigrationMapper<TOld, TNew>>(services) is { } mapper
            ? new ReverseMapping<TOld, TNew>(mapper, null)
            : null;
    }

    /// <summary>
    /// Builds the old store's record of <paramref name="entity"/>; a merger first reads the old store's current record
    /// (the caller holds the entity's lock). A failure of the mapping is a <see cref="MigrationMappingException"/>
    /// naming the id, thrown before anything is written.
    /// </summary>
    public ValueTask<TOld> ToOldAsync(
        MigrationContext<TOld, TNew> context,
        string id,
        TNew entity,
        CancellationToken cancellationToken
    )
    {
        if (_merger is null)
        {
            // No old-store read: a save with a reverse mapper costs what it did before mergers existed.
            return new ValueTask<TOld>(Mapping.Run(context.Name, id, "reverse mapper", _mapper!.MapBack, entity));
        }

        return MergeWithCurrentAsync(context, id, entity, cancellationToken);
    }

    /// <summary>
    /// Builds the old store's record of <paramref name="entity"/> from the old store's record as the caller read it
    /// (under the entity's lock): a forward sync's check that the old record is just what the new entity maps back
    /// to, an echo of a write-back.
    /// </summary>
    public TOld ToOld(MigrationContext<TOld, TNew> context, string id, TNew entity, TOld? current) =>
        _merger is null
            ? Mapping.Run(context.Name, id, "reverse mapper", _mapper!.MapBack, entity)
            : Mapping.Run(
                context.Name,
                id,
                "reverse merger",
                static input => input.Merger.MergeBack(input.Entity, input.Current),
                (Merger: _merger, Entity: entity, Current: current)
            );

    private async ValueTask<TOld> MergeWithCurrentAsync(
        MigrationContext<TOld, TNew> context,
        string id,
        TNew entity,
        CancellationToken cancellationToken
    )
    {
        TOld? current = await context.Stores.FindOldAsync(id, cancellationToken).ConfigureAwait(false);
        return ToOld(context, id, entity, current);
    }
}
