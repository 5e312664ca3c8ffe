namespace LazyMigrate.Internal;

/// <summary>
/// Reads an old store in batches from a cursor, streaming (one batch in memory at a time). A corrupt record ends its
/// batch; the next batch resumes the scan after it, so that one bad record never stops a backfill.
/// </summary>
internal sealed class BatchScanner<TOld>(IOldStore<TOld> store, string? cursor) : IAsyncDisposable
    where TOld : class
{
    private IAsyncEnumerator<KeyValuePair<string, TOld>>? _scan;
    private string? _cursor = cursor;
    private bool _end;

    public async ValueTask<ScannedBatch<TOld>> ReadAsync(int size, CancellationToken cancellationToken)
    {
        var entities = new List<KeyValuePair<string, TOld>>(size);
        if (_end)
        {
            return new ScannedBatch<TOld>(entities, null, end: true);
        }

        // The scan keeps the token it started with: a new one (the next run's) starts a new scan.
        _scan ??= store.ScanAsync(_cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (entities.Count < size)
            {
                if (!await _scan.MoveNextAsync().ConfigureAwait(false))
                {
                    _end = true;
                    break;
                }

                entities.Add(_scan.Current);
            }
        }
        catch (CorruptEntityException corrupt)
        {
            await RestartAfterAsync(corrupt.EntityId).ConfigureAwait(false);
            return new ScannedBatch<TOld>(entities, corrupt, end: false);
        }

        if (entities.Count > 0)
        {
            _cursor = entities[^1].Key;
        }

        return new ScannedBatch<TOld>(entities, null, _end);
    }

    public ValueTask DisposeAsync() => _scan?.DisposeAsync() ?? default;

    private async ValueTask RestartAfterAsync(string corruptId)
    {
        await DisposeAsync().ConfigureAwait(false);
        _scan = null;
        _cursor = corruptId;
    }
}
