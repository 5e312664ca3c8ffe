using System.Numerics;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// How the batched plain insert (<see cref="DocumentStatements.InsertManyAbsent"/>) of one table finds the ids the
/// table already holds: by one index range scan between the batch's least and greatest id, capped at twice the batch,
/// instead of one index probe a row. A backfill's batch is a run of the old store's keys, so the range it spans in the
/// table holds little more than the batch, and in a table that is still filling, little at all.
/// </summary>
/// <remarks>
/// <para>
/// A batch whose range holds more rows than the cap (keys whose order in the old store is not their byte order, so
/// that a batch spans much of the table) falls back to the probe a row in the same statement; the range scan is then
/// skipped for the next batches, twice as many after each such batch in a row (up to 64), so that such keys cost
/// little more than the probe a row alone. Batches of fewer than <see cref="MinBatchSize"/> rows (the read path's
/// few scattered ids) always probe each row and teach the probe nothing, so they never turn the scan off for a
/// backfill of the same table.
/// </para>
/// <para>
/// The range is only a hint. An id it misses (a row inserted since the statement's snapshot) makes the plain insert
/// fail with a unique violation, and insert-if-absent proper runs the batch again: no row is ever overwritten,
/// whatever the probe finds.
/// </para>
/// </remarks>
internal sealed class PresentRangeProbe
{
    /// <summary>The least batch that scans its range: below it, a probe a row costs little anyway.</summary>
    public const int MinBatchSize = 16;

    private const int MaxBatchesSkipped = 64;

    private static readonly int MaxMissesCounted = BitOperations.Log2(MaxBatchesSkipped);

    private readonly object _gate = new();
    private int _missesInARow;
    private int _batchesToSkip;

    /// <summary>Gets the cap of the next batch's range scan: 0 skips it (the statement probes each row).</summary>
    /// <param name="batchSize">The rows of the batch.</param>
    public int NextLimit(int batchSize)
    {
        if (batchSize < MinBatchSize)
        {
            return 0;
        }

        lock (_gate)
        {
            if (_batchesToSkip > 0)
            {
                _batchesToSkip--;
                return 0;
            }
        }

        return batchSize > int.MaxValue / 2 ? int.MaxValue : batchSize * 2;
    }

    /// <summary>Records whether a batch's range scan found every row of its range (within its cap).</summary>
    /// <param name="complete">Whether the scan ended before its cap.</param>
    public void Record(bool complete)
    {
        lock (_gate)
        {
            if (complete)
            {
                _missesInARow = 0;
                return;
            }

            _missesInARow = Math.Min(_missesInARow + 1, MaxMissesCounted);
            _batchesToSkip = 1 << _missesInARow;
        }
    }

    /// <summary>
    /// Gets the least and the greatest of the ids in code point order, which is the byte order of their UTF-8 in
    /// PostgreSQL's "C" collation (UTF-16's ordinal order is not: it puts U+E000-U+FFFF after the surrogate pairs).
    /// </summary>
    /// <param name="ids">The batch's ids; at least one, none with a lone surrogate.</param>
    public static (string Low, string High) Bounds(string[] ids)
    {
        string low = ids[0],
            high = ids[0];
        for (int i = 1; i < ids.Length; i++)
        {
            string id = ids[i];
            if (CodePointOrder.Compare(id, low) < 0)
            {
                low = id;
            }
            else if (CodePointOrder.Compare(id, high) > 0)
            {
                high = id;
            }
        }

        return (low, high);
    }
}
