namespace LazyMigrate.Internal;

/// <summary>The <see cref="IMigratingRepository{TOld, TNew}"/> decorator over an old and a new store.</summary>
internal sealed class MigratingRepository<TOld, TNew> : IMigratingRepository<TOld, TNew>
    where TOld : class
    where TNew : class
{
    private readonly MigrationContext<TOld, TNew> _context;
    private readonly EntityMigrator<TOld, TNew> _migrator;
    private readonly IWritePath<TNew> _writePath;
    private readonly StaleReadSync<TOld, TNew> _staleReads;

    public MigratingRepository(
        MigrationContext<TOld, TNew> context,
        EntityMigrator<TOld, TNew> migrator,
        IWritePath<TNew> writePath,
        StaleReadSync<TOld, TNew> staleReads
    )
    {
        _context = context;
        _migrator = migrator;
        _writePath = writePath;
        _staleReads = staleReads;
    }

    public ValueTask<TNew?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        EntityIds.ThrowIfInvalid(id);
        ValueTask<NewStoreRead<TNew>> pending = _context.Stores.FindNewAsync(id, cancellationToken);

        if (!pending.IsCompletedSuccessfully)
        {
            return GetSlowAsync(id, pending, cancellationToken);
        }

        // The hot path: the new store answered at once and holds the entity or its tombstone. No lock, no await.
        NewStoreRead<TNew> read = pending.Result;
        if (read.State == NewStoreState.Missing)
        {
            return MigrateOnReadAsync(id, cancellationToken);
        }

        return read.IsStale && _staleReads.IsOn
            ? SyncStaleAsync(id, cancellationToken)
            : new ValueTask<TNew?>(FromNewStore(read));
    }

    public async ValueTask<IReadOnlyDictionary<string, TNew>> GetManyAsync(
        IEnumerable<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        List<string> distinct = EntityIds.Distinct(ids);
        var found = new Dictionary<string, TNew>(distinct.Count, StringComparer.Ordinal);
        if (distinct.Count == 0)
        {
            return found;
        }

        IReadOnlyDictionary<string, NewStoreRead<TNew>> current;
        try
        {
            current = await _context.Stores.FindManyNewAsync(distinct, cancellationToken).ConfigureAwait(false);
        }
        catch (LazyMigrationException exception)
        {
            // GetManyAsync reports every failure on a batch error, a whole-batch one too: here every id failed with it.
            throw new MigrationBatchException<TNew>(
                _context.Name,
                found,
                distinct.ToDictionary(id => id, _ => exception, StringComparer.Ordinal)
            );
        }

        var missing = new List<string>();
        List<string>? stale = null;
        foreach (string id in distinct)
        {
            if (current.TryGetValue(id, out NewStoreRead<TNew> read) && read.State != NewStoreState.Missing)
            {
                if (read.IsStale && _staleReads.IsOn)
                {
                    (stale ??= []).Add(id);
                    continue;
                }

                Add(found, id, FromNewStore(read));
            }
            else if (IsKnownAbsent(id))
            {
                continue;
            }
            else
            {
                missing.Add(id);
            }
        }

        if (stale is not null)
        {
            IReadOnlyDictionary<string, NewStoreRead<TNew>> synced = await _staleReads
                .SyncAsync(stale, cancellationToken)
                .ConfigureAwait(false);
            foreach (string id in stale)
            {
                Add(found, id, FromNewStore(synced.GetValueOrDefault(id)));
            }
        }

        // An id the old store cannot key on fails alone, by its own error, rather than failing the batch's old read for
        // every id in it.
        Dictionary<string, LazyMigrationException>? failures = RemoveInvalidOldIds(missing);
        if (missing.Count == 0)
        {
            return failures is null ? found : throw new MigrationBatchException<TNew>(_context.Name, found, failures);
        }

        IReadOnlyDictionary<string, MigrationResult<TNew>> migrated = await _migrator
            .MigrateManyAsync(missing, MigrationTrigger.OnDemand, cancellationToken)
            .ConfigureAwait(false);
        foreach (string id in missing)
        {
            MigrationResult<TNew> result = migrated[id];
            if (result.Failure is { } failure)
            {
                (failures ??= new Dictionary<string, LazyMigrationException>(StringComparer.Ordinal))[id] = failure;
                continue;
            }

            Add(found, id, FromMigration(result));
        }

        // Loud, and the caller keeps what was read: it need not read again the ids that did not fail.
        return failures is null ? found : throw new MigrationBatchException<TNew>(_context.Name, found, failures);
    }

    private Dictionary<string, LazyMigrationException>? RemoveInvalidOldIds(List<string> ids)
    {
        Dictionary<string, LazyMigrationException>? failures = null;
        for (int i = ids.Count - 1; i >= 0; i--)
        {
            try
            {
                _context.Stores.ValidateOldId(ids[i]);
            }
            catch (InvalidEntityIdException invalid)
            {
                (failures ??= new Dictionary<string, LazyMigrationException>(StringComparer.Ordinal))[ids[i]] = invalid;
                ids.RemoveAt(i);
            }
        }

        return failures;
    }

    public async ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        EntityIds.ThrowIfInvalid(id);
        ArgumentNullException.ThrowIfNull(entity);
        await _writePath.SaveAsync(id, entity, cancellationToken).ConfigureAwait(false);
        _context.NegativeCache.Forget(id);
        _context.Metrics.Write(_context.Name, "save", _context.Options.WriteBackMode);
    }

    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        EntityIds.ThrowIfInvalid(id);
        await _writePath.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        _context.Metrics.Write(_context.Name, "delete", _context.Options.WriteBackMode);
    }

    public async ValueTask<MigrationOutcome> MigrateAsync(string id, CancellationToken cancellationToken = default)
    {
        EntityIds.ThrowIfInvalid(id);
        NewStoreRead<TNew> read = await _context.Stores.FindNewAsync(id, cancellationToken).ConfigureAwait(false);
        if (read.State != NewStoreState.Missing)
        {
            return MigrationResult<TNew>.FromNewStore(read).Outcome;
        }

        _context.Stores.ValidateOldId(id);
        MigrationResult<TNew> result = await _migrator
            .MigrateAsync(id, MigrationTrigger.OnDemand, cancellationToken)
            .ConfigureAwait(false);
        return result.Outcome; // a failure throws
    }

    private static void Add(Dictionary<string, TNew> found, string id, TNew? value)
    {
        if (value is not null)
        {
            found[id] = value;
        }
    }

    private async ValueTask<TNew?> GetSlowAsync(
        string id,
        ValueTask<NewStoreRead<TNew>> pending,
        CancellationToken cancellationToken
    )
    {
        NewStoreRead<TNew> read = await pending.ConfigureAwait(false);
        if (read.State == NewStoreState.Missing)
        {
            return await MigrateOnReadAsync(id, cancellationToken).ConfigureAwait(false);
        }

        return read.IsStale && _staleReads.IsOn
            ? await SyncStaleAsync(id, cancellationToken).ConfigureAwait(false)
            : FromNewStore(read);
    }

    /// <summary>A read of an entity written through the old API since: synced first, then returned.</summary>
    private async ValueTask<TNew?> SyncStaleAsync(string id, CancellationToken cancellationToken) =>
        FromNewStore(await _staleReads.SyncOneAsync(id, cancellationToken).ConfigureAwait(false));

    private async ValueTask<TNew?> MigrateOnReadAsync(string id, CancellationToken cancellationToken)
    {
        if (IsKnownAbsent(id))
        {
            return null;
        }

        // An id the old store cannot key on is the caller's error, refused before a lock or a migration that would
        // fail with it (and log a failure at every such request); as GetManyAsync does.
        _context.Stores.ValidateOldId(id);

        MigrationResult<TNew> result = await _migrator
            .MigrateAsync(id, MigrationTrigger.OnDemand, cancellationToken)
            .ConfigureAwait(false);
        return FromMigration(result);
    }

    private TNew? FromNewStore(NewStoreRead<TNew> read)
    {
        _context.Metrics.Read(_context.Name, read.State == NewStoreState.Found ? ReadSources.New : ReadSources.None);
        return read.Value;
    }

    private TNew? FromMigration(MigrationResult<TNew> result)
    {
        result.ThrowIfFailed(); // before the read is counted
        _context.Metrics.Read(_context.Name, result.ReadSource);
        return result.Value;
    }

    private bool IsKnownAbsent(string id)
    {
        if (!_context.NegativeCache.IsKnownAbsent(id))
        {
            return false;
        }

        _context.Metrics.Read(_context.Name, ReadSources.None);
        return true;
    }
}
