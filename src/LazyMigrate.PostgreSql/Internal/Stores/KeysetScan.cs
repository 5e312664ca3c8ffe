using System.Runtime.ExceptionServices;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The keyset scan of the old stores: page after page from a cursor, each page read whole (its connection returned)
/// before its rows are yielded, so memory stays flat and no connection is held while the caller works.
/// </summary>
/// <remarks>
/// Written out rather than as an async iterator: a row of a page already read is handed out synchronously, with no
/// state machine step per row, which on a scan of small rows costs as much as reading the row. One list holds every
/// page in turn: the caller gets each row by value, so the next page may reuse it.
/// </remarks>
/// <param name="afterId">The cursor to start after, or null for the first page.</param>
/// <param name="pageSize">The rows a full page holds: a shorter page is the last.</param>
/// <param name="readPage">Adds the rows of the page after a cursor (null: the first page) to an empty list, in the
/// scan's order.</param>
/// <param name="cancellationToken">Observed before each page, with the token given to the enumerator.</param>
internal sealed class KeysetScan<T>(
    string? afterId,
    int pageSize,
    Func<string?, List<KeyValuePair<string, T>>, CancellationToken, ValueTask> readPage,
    CancellationToken cancellationToken
) : IAsyncEnumerable<KeyValuePair<string, T>>
{
    private readonly string? _afterId = afterId;
    private readonly int _pageSize = pageSize;
    private readonly Func<string?, List<KeyValuePair<string, T>>, CancellationToken, ValueTask> _readPage = readPage;
    private readonly CancellationToken _cancellationToken = cancellationToken;

    /// <inheritdoc/>
    public IAsyncEnumerator<KeyValuePair<string, T>> GetAsyncEnumerator(
        CancellationToken enumeratorCancellationToken = default
    ) => new Enumerator(this, enumeratorCancellationToken);

    private sealed class Enumerator : IAsyncEnumerator<KeyValuePair<string, T>>
    {
        private readonly KeysetScan<T> _scan;
        private readonly List<KeyValuePair<string, T>> _page;
        private readonly CancellationTokenSource? _linked;
        private readonly CancellationToken _cancellationToken;
        private string? _cursor;
        private int _index = -1;
        private bool _lastPage;
        private ExceptionDispatchInfo? _corrupt;

        public Enumerator(KeysetScan<T> scan, CancellationToken enumeratorCancellationToken)
        {
            _scan = scan;
            _page = new List<KeyValuePair<string, T>>(scan._pageSize);
            _cursor = scan._afterId;

            // As an async iterator with [EnumeratorCancellation] does: either token cancels the scan.
            if (scan._cancellationToken.CanBeCanceled && enumeratorCancellationToken.CanBeCanceled)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(
                    scan._cancellationToken,
                    enumeratorCancellationToken
                );
                _cancellationToken = _linked.Token;
            }
            else
            {
                _cancellationToken = scan._cancellationToken.CanBeCanceled
                    ? scan._cancellationToken
                    : enumeratorCancellationToken;
            }
        }

        public KeyValuePair<string, T> Current => _page[_index];

        public ValueTask<bool> MoveNextAsync()
        {
            if (++_index < _page.Count)
            {
                return new ValueTask<bool>(true);
            }

            _corrupt?.Throw();
            return _lastPage ? new ValueTask<bool>(false) : NextPageAsync();
        }

        public ValueTask DisposeAsync()
        {
            _linked?.Dispose();
            return default;
        }

        private async ValueTask<bool> NextPageAsync()
        {
            if (_page.Count > 0)
            {
                _cursor = _page[^1].Key;
            }

            _cancellationToken.ThrowIfCancellationRequested();
            _page.Clear();
            _index = 0;
            try
            {
                await _scan._readPage(_cursor, _page, _cancellationToken).ConfigureAwait(false);
            }
            catch (CorruptEntityException exception) when (_page.Count > 0)
            {
                // The rows before the corrupt one are good: hand them out first, so that a caller resuming after the
                // corrupt id (a backfill quarantining it) skips nothing else.
                _corrupt = ExceptionDispatchInfo.Capture(exception);
                _lastPage = true;
                return true;
            }

            _lastPage = _page.Count < _scan._pageSize;
            return _page.Count > 0;
        }
    }
}
