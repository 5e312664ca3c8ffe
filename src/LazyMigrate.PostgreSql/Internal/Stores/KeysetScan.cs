using System.Runtime.CompilerServices;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The keyset scan of the old stores: page after page from a cursor, each page read whole (its connection returned)
/// before its rows are yielded, so memory stays flat and no connection is held while the caller works.
/// </summary>
internal static class KeysetScan
{
    /// <param name="afterId">The cursor to start after, or null for the first page.</param>
    /// <param name="pageSize">The rows a full page holds: a shorter page is the last.</param>
    /// <param name="readPage">Reads the page after a cursor (null: the first page), in the scan's order.</param>
    /// <param name="cancellationToken">Observed between pages.</param>
    public static async IAsyncEnumerable<KeyValuePair<string, T>> PagesAsync<T>(
        string? afterId,
        int pageSize,
        Func<string?, CancellationToken, ValueTask<List<KeyValuePair<string, T>>>> readPage,
        [EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        string? cursor = afterId;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<KeyValuePair<string, T>> page = await readPage(cursor, cancellationToken).ConfigureAwait(false);
            foreach (KeyValuePair<string, T> row in page)
            {
                yield return row;
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            cursor = page[^1].Key;
        }
    }
}
