namespace LazyMigrate.Internal;

/// <summary>
/// A mapper (both ways) made of delegates, for <c>UseMapper(Func)</c> and <c>UseReverseMapper(Func)</c>.
/// </summary>
internal sealed class DelegateMigrationMapper<TOld, TNew>(Func<TOld, TNew>? map, Func<TNew, TOld>? mapBack)
    : IMigrationMapper<TOld, TNew>,
        IReverseMigrationMapper<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public TNew Map(TOld entity) => map!(entity);

    public TOld MapBack(TNew entity) => mapBack!(entity);
}
