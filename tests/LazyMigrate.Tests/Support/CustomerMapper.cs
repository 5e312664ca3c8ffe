namespace LazyMigrate.Tests.Support;

/// <summary>Maps customers both ways, counts its calls and fails on demand.</summary>
public sealed class CustomerMapper
    : IMigrationMapper<OldCustomer, NewCustomer>,
        IReverseMigrationMapper<OldCustomer, NewCustomer>
{
    private int _mapCount;

    public int MapCount => Volatile.Read(ref _mapCount);

    /// <summary>Gets or sets a predicate on the old full name that makes <see cref="Map"/> throw.</summary>
    public Func<OldCustomer, bool> FailWhen { get; set; } = _ => false;

    /// <summary>Gets or sets whether <see cref="MapBack"/> throws.</summary>
    public bool FailMapBack { get; set; }

    public NewCustomer Map(OldCustomer entity)
    {
        Interlocked.Increment(ref _mapCount);
        if (FailWhen(entity))
        {
            throw new FormatException("the full name has no space");
        }

        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new NewCustomer(entity.FullName[..space], entity.FullName[(space + 1)..], entity.Email);
    }

    public OldCustomer MapBack(NewCustomer entity)
    {
        if (FailMapBack)
        {
            throw new InvalidOperationException("reverse mapping is broken");
        }

        return new OldCustomer($"{entity.FirstName} {entity.LastName}", entity.Email);
    }
}
