namespace LazyMigrate;

/// <summary>Options of one migration (one entity pair), validated at start-up.</summary>
public sealed class LazyMigrationOptions
{
    /// <summary>Gets or sets whether a migration takes the lock for its entity before reading the old store.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    /// <remarks>
    /// Without the lock, insert-if-absent alone keeps migrations correct (one row, one event), but concurrent
    /// instances may each read the old store and run the mapper for the same entity: an option for low contention.
    /// </remarks>
    public bool UseLock { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the migration locks are taken by the new store itself (it must implement
    /// <see cref="ILockingNewStore{TNew}"/>) instead of an <see cref="IMigrationLockProvider"/>. The store then locks
    /// and re-reads in one round trip, and inserts and unlocks in another.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    /// <remarks>
    /// Applies only when <see cref="UseLock"/> is on. When it is off and no lock provider is registered (for the
    /// migration or the container), a new store that implements <see cref="ILockingNewStore{TNew}"/> takes the locks
    /// anyway: the default lock.
    /// </remarks>
    public bool LockInNewStore { get; set; }

    /// <summary>Gets or sets how long a migration waits for the lock of its entity before failing.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how saves and deletes reach the old store.</summary>
    /// <value>The default value is <see cref="WriteBackMode.None"/>.</value>
    public WriteBackMode WriteBackMode { get; set; } = WriteBackMode.None;

    /// <summary>
    /// Gets or sets whether writes made through the old API reach the new store: forward sync. The old API's changes
    /// are recorded in the outbox (by a trigger on PostgreSQL, elsewhere by an EF Core interceptor or a call of
    /// <see cref="Outbox.IOldStoreChangeRecorder{TOld, TNew}"/>), and the dispatcher brings each entity the new store
    /// holds up to the old store's state, through the migration's <see cref="IMigrationMerger{TOld, TNew}"/> (or its
    /// mapper).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    /// <remarks>
    /// Needs <see cref="UseLock"/> and a durable outbox. With it on, every save and delete takes its entity's lock
    /// (as <see cref="WriteBackMode.Sync"/> does), so that a forward sync, which reads both stores under the lock,
    /// never overwrites a save it did not see; and of a write-back and a forward sync pending for one entity, the one
    /// recorded last wins in both stores.
    /// </remarks>
    public bool ForwardSync { get; set; }

    /// <summary>
    /// Gets or sets how long an id found in neither store is remembered as absent, so that a flood of reads of unknown
    /// ids does not reach the old store. <see cref="TimeSpan.Zero"/> turns this off.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/> (off).</value>
    /// <remarks>Needs an <c>IMemoryCache</c>; <c>UseNegativeCache</c> on the builder registers one. A save of the id is
    /// seen at once.</remarks>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets how many times the default resilience pipelines retry a transient failure.</summary>
    /// <value>The default value is 3.</value>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the base delay of the default pipelines' exponential backoff (with jitter).</summary>
    /// <value>The default value is 100 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the timeout of one attempt of a store call in the default pipelines.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Copies these options with <see cref="LockInNewStore"/> on: the lock a migration takes by default when its new
    /// store can lock itself and no lock provider is registered, without changing the options the container holds.
    /// </summary>
    internal LazyMigrationOptions WithLockInNewStore()
    {
        // A shallow copy keeps every setting, those added later included; the pipeline overrides are only read.
        var copy = (LazyMigrationOptions)MemberwiseClone();
        copy.LockInNewStore = true;
        return copy;
    }

    /// <summary>
    /// Gets the pipelines that replace the defaults, by role: each builds its pipeline from a builder that carries the
    /// container's clock.
    /// </summary>
    internal Dictionary<
        MigrationRole,
        Func<Polly.ResiliencePipelineBuilder, Polly.ResiliencePipeline>
    > PipelineOverrides { get; } = [];
}
