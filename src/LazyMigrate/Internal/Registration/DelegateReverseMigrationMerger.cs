namespace LazyMigrate.Internal;

/// <summary>A reverse merger made of a delegate, for <c>UseReverseMerger(Func)</c>.</summary>
internal sealed class DelegateReverseMigrationMerger<TOld, TNew>(Func<TNew, TOld?, TOld> mergeBack)
    : IReverseMigrationMerger<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public TOld MergeBack(TNew entity, TOld? current) => mergeBack(entity, current);
}
