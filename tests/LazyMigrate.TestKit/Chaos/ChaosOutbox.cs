using LazyMigrate.Outbox;

namespace LazyMigrate.TestKit.Chaos;

/// <summary>
/// An outbox whose dispatcher calls (claim, complete, reschedule, dead-letter) go through a <see cref="StoreChaos"/>:
/// a claim whose reply is lost leaves its items leased to nobody until the lease ends, a completion that fails leaves
/// applied items to be applied again, a failed reschedule leaves the attempt uncounted.
/// </summary>
/// <remarks>
/// <see cref="DelegatingOutbox.RecordAsync"/>, the writers' call, passes through, as do the listings and statistics a
/// test reads: a fault there fails the save itself, which the write path's own tests cover; here the writers must
/// succeed, so that the new store holds every write and the old store can be checked against it.
/// </remarks>
public sealed class ChaosOutbox(IMigrationOutbox inner, StoreChaos chaos) : DelegatingOutbox(inner)
{
    /// <summary>Gets the chaos the dispatcher calls go through.</summary>
    public StoreChaos Chaos => chaos;

    public override ValueTask<IReadOnlyList<OutboxItem>> ClaimAsync(
        OutboxClaim claim,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => Inner.ClaimAsync(claim, ct), cancellationToken);

    public override ValueTask<int> CompleteAsync(
        IReadOnlyCollection<OutboxItem> items,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => Inner.CompleteAsync(items, ct), cancellationToken);

    public override ValueTask RescheduleAsync(
        OutboxItem item,
        DateTimeOffset nextAttemptAt,
        string error,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => Inner.RescheduleAsync(item, nextAttemptAt, error, ct), cancellationToken);

    public override ValueTask DeadLetterAsync(
        OutboxItem item,
        string error,
        CancellationToken cancellationToken = default
    ) => chaos.RunAsync(ct => Inner.DeadLetterAsync(item, error, ct), cancellationToken);
}
