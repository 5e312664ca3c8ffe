using System.Threading.RateLimiting;

namespace LazyMigrate.Backfill;

/// <summary>Options of one migration's backfill, validated at start-up.</summary>
public sealed class BackfillOptions
{
    /// <summary>Gets or sets the size of the first batch.</summary>
    /// <value>The default value is 1000.</value>
    public int InitialBatchSize { get; set; } = 1000;

    /// <summary>Gets or sets the smallest batch the adaptive size goes down to.</summary>
    /// <value>The default value is 50.</value>
    public int MinBatchSize { get; set; } = 50;

    /// <summary>
    /// Gets or sets the largest batch the adaptive size goes up to. Larger batches save round trips, but past a few
    /// thousand rows they stopped paying: on PostgreSQL, batches of 5,000 ran about 10% slower than batches of 1,000
    /// to 3,000 (docs/benchmarks.md). An <see cref="InitialBatchSize"/> above it fails validation.
    /// </summary>
    /// <value>The default value is 2000.</value>
    public int MaxBatchSize { get; set; } = 2000;

    /// <summary>
    /// Gets or sets how many batches migrate at once: the next batch is scanned and mapped while the one before is
    /// still being inserted. The cursor passes a batch only once every batch before it has committed. 1 migrates one
    /// batch at a time (the next is still read ahead).
    /// </summary>
    /// <value>The default value is 2.</value>
    public int MaxBatchesInFlight { get; set; } = 2;

    /// <summary>
    /// Gets or sets how long a batch should take: the batch size moves toward it, as pt-online-schema-change's
    /// <c>--chunk-time</c> does, so that a batch's locks and transaction stay short whatever the rows cost.
    /// <see cref="TimeSpan.Zero"/> keeps the size fixed at <see cref="InitialBatchSize"/>.
    /// </summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan TargetBatchDuration { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the most entities a second this instance migrates; <see langword="null"/> for no limit.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public double? MaxEntitiesPerSecond { get; set; }

    /// <summary>
    /// Gets or sets a rate limiter shared with other work, if any: each batch acquires one permit per entity from it
    /// (in pieces no larger than the limiter allows) before it runs.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public RateLimiter? RateLimiter { get; set; }

    /// <summary>
    /// Gets or sets how long the lease of the backfill lasts unless renewed; a batch renews it. Another instance
    /// takes a backfill over when its holder has not renewed it for this long, so keep it well above a batch.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often an instance without the lease asks for it again.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan LeasePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long the hosted service waits before it runs a failed backfill again.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many failures a dry run reports in full; all are counted.</summary>
    /// <value>The default value is 100.</value>
    public int DryRunFailuresKept { get; set; } = 100;

    /// <summary>Gets or sets an id for this instance's lease, for logs and for the lease table.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the machine name, the process id and a random suffix.
    /// </value>
    public string? InstanceId { get; set; }
}
