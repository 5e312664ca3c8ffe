namespace LazyMigrate.Internal;

/// <summary>A merger made of a delegate, for <c>UseMerger(Func)</c>.</summary>
internal sealed class DelegateMigrationMerger<TOld, TNew>(Func<TOld, TNew, TNew> merge) : IMigrationMerger<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public TNew Merge(TOld entity, TNew current) => merge(entity, current);
}
