namespace LazyMigrate.WebService.Tests;

/// <summary>
/// What the fleet expects of one customer id, as its writes left it: what each API returns, and whether one of them
/// may still lag behind the last write. The fleet writes an id under its <see cref="Gate"/> only, so the writes to one
/// id are ordered in real time and the last is well defined; writes to different ids run at the same time.
/// </summary>
internal sealed class ExpectedCustomer(int id, V1Customer? seeded)
{
    public int Id { get; } = id;

    /// <summary>Gets the gate a client holds from its request to its checks.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Gets or sets what the old API returns (<see langword="null"/>: 404).</summary>
    public V1Customer? Old { get; set; } = seeded;

    /// <summary>
    /// Gets or sets whether <see cref="Old"/>'s credit limit is known: a v2 save written back after a v2 delete that
    /// was not yet written back may find the legacy row still there (its limit kept) or gone (the default).
    /// </summary>
    public bool LimitKnown { get; set; } = true;

    /// <summary>Gets or sets what the new API returns (<see langword="null"/>: 404).</summary>
    public V2Customer? New { get; set; } = seeded is null ? null : CustomerViews.ToV2(seeded);

    /// <summary>Gets or sets whether the new store holds the customer (a value or a tombstone).</summary>
    public bool Migrated { get; set; }

    /// <summary>Gets or sets whether a v2 write may not have reached the old API yet (Async write-back).</summary>
    public bool OldMayLag { get; set; }

    /// <summary>Gets or sets whether a v1 write may not have reached the new API yet (forward sync's lag).</summary>
    public bool NewMayLag { get; set; }

    /// <summary>Gets or sets the last write, for failure messages.</summary>
    public string LastWrite { get; set; } = "seeded";

    /// <summary>Whether the old API's answer is the one expected (the credit limit only when known).</summary>
    public bool OldIs(V1Customer? actual) =>
        (Old, actual) switch
        {
            (null, null) => true,
            ({ } expected, { } value) => expected.FullName == value.FullName
                && expected.Phone == value.Phone
                && (!LimitKnown || expected.CreditLimit == value.CreditLimit),
            _ => false,
        };
}
