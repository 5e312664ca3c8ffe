using LazyMigrate.Backfill;

namespace LazyMigrate.Internal;

/// <summary>
/// The adaptive batch size: after each full batch, the size moves toward the one that would have taken
/// <see cref="BackfillOptions.TargetBatchDuration"/>, as pt-online-schema-change's <c>--chunk-time</c> does.
/// </summary>
/// <remarks>
/// A step at most halves or doubles the size, so one batch slowed by something else (a vacuum, a checkpoint) does not
/// collapse it. The next size scales the batch's own size (the runner reads a batch ahead, so a batch may have been
/// sized before its predecessor was measured). The last batch of the store says nothing and is not recorded.
/// </remarks>
internal sealed class BatchSizer(BackfillOptions options)
{
    private const double MaxStep = 2;

    public int Next { get; private set; } =
        Math.Clamp(options.InitialBatchSize, options.MinBatchSize, options.MaxBatchSize);

    public void Record(int size, TimeSpan elapsed)
    {
        if (options.TargetBatchDuration <= TimeSpan.Zero || size == 0)
        {
            return;
        }

        double ratio = elapsed > TimeSpan.Zero ? options.TargetBatchDuration / elapsed : MaxStep;
        double next = size * Math.Clamp(ratio, 1 / MaxStep, MaxStep);
        Next = (int)Math.Clamp(Math.Round(next), options.MinBatchSize, options.MaxBatchSize);
    }
}
