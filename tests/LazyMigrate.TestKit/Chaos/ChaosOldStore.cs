namespace LazyMigrate.TestKit.Chaos;

/// <summary>
/// An old store whose writes (the write-backs) go through a <see cref="StoreChaos"/>: some fail before they reach the
/// store, some after, some are delayed. Reads pass through: the chaos is aimed at the write path of the outbox.
/// </summary>
public sealed class ChaosOldStore<TOld>(IOldStore<TOld> inner, StoreChaos chaos) : AroundWriteOldStore<TOld>(inner)
    where TOld : class
{
    /// <summary>Gets the chaos the writes go through.</summary>
    public StoreChaos Chaos => chaos;

    protected override ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    ) => chaos.RunAsync(write, cancellationToken);
}
