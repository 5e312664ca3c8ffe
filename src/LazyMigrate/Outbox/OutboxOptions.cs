using System.Text.Json;

namespace LazyMigrate.Outbox;

/// <summary>How one migration's dispatcher applies its outbox; validated at start-up.</summary>
public sealed class OutboxOptions
{
    /// <summary>Gets or sets the most items one claim leases.</summary>
    /// <value>The default value is 100.</value>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Gets or sets how long a claim leases its items: a dispatcher that dies mid-batch has its items taken over by
    /// another once the lease ends. Longer than the slowest batch, so a live dispatcher keeps its items.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often a running dispatcher looks for due items when nothing woke it: items recorded by other
    /// instances, retries that came due, leases that ended.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many failed attempts dead-letter an item.</summary>
    /// <value>The default value is 10.</value>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>
    /// Gets or sets the delay before the second attempt of a failed item; each later one doubles it, with jitter, up to
    /// <see cref="MaxRetryDelay"/>. The next attempt time is stored with the item.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest delay between two attempts of an item.</summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how many old-store writes of one batch run at once.</summary>
    /// <value>The default value is 8.</value>
    public int MaxParallelWrites { get; set; } = 8;

    /// <summary>
    /// Gets or sets how long the dispatcher waits for the handlers of one event before it counts the attempt failed and
    /// moves on (the handler is cancelled; one that ignores cancellation runs on, unobserved).
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan HandlerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets whether a write that records an intent wakes this process's dispatcher at once, off the caller's
    /// path: with no hosted dispatcher, the process then drains what it recorded in the background.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool DispatchOnWrite { get; set; } = true;

    /// <summary>
    /// Gets or sets the dispatcher's id, the owner of its leases; unique per process. <see langword="null"/> makes one
    /// from the machine name, the process id and a random part.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? DispatcherId { get; set; }

    /// <summary>Gets or sets how event payloads (the old and new values) are serialized into the outbox.</summary>
    /// <value>The default value is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
