namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that passes every call through and, before each write (upsert or delete), runs a hook with the id:
/// the base of the test's old stores that hold or fail writes, as <see cref="AfterReadOldStore{TOld}"/> is for reads.
/// </summary>
public abstract class BeforeWriteOldStore<TOld>(IOldStore<TOld> inner) : AroundWriteOldStore<TOld>(inner)
    where TOld : class
{
    /// <summary>Runs the hook, then the write.</summary>
    protected sealed override async ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    )
    {
        await BeforeWriteAsync(id, isDelete: entity is null, cancellationToken);
        await write(cancellationToken);
    }

    /// <summary>The hook, before each write of <paramref name="id"/>.</summary>
    protected abstract Task BeforeWriteAsync(string id, bool isDelete, CancellationToken cancellationToken);
}
