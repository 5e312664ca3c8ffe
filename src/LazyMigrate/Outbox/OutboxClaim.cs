namespace LazyMigrate.Outbox;

/// <summary>A dispatcher's request for due items of one migration.</summary>
public sealed class OutboxClaim
{
    /// <summary>Initializes a new instance of the <see cref="OutboxClaim"/> class.</summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="owner">The dispatcher's id: the lease holder of the items it claims.</param>
    /// <param name="maxItems">The most items to claim.</param>
    /// <param name="now">The dispatcher's clock.</param>
    /// <param name="leaseUntil">When the leases of the claimed items end.</param>
    public OutboxClaim(string migration, string owner, int maxItems, DateTimeOffset now, DateTimeOffset leaseUntil)
    {
        ArgumentException.ThrowIfNullOrEmpty(migration);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxItems);
        Migration = migration;
        Owner = owner;
        MaxItems = maxItems;
        Now = now;
        LeaseUntil = leaseUntil;
    }

    /// <summary>Gets the migration name.</summary>
    public string Migration { get; }

    /// <summary>Gets the dispatcher's id: the lease holder of the items it claims.</summary>
    public string Owner { get; }

    /// <summary>Gets the most items to claim.</summary>
    public int MaxItems { get; }

    /// <summary>
    /// Gets the dispatcher's clock: items due at or before it, whose lease is free or ended by it, are claimed.
    /// </summary>
    public DateTimeOffset Now { get; }

    /// <summary>Gets when the leases of the claimed items end, unless completed or released before.</summary>
    public DateTimeOffset LeaseUntil { get; }
}
