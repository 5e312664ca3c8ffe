using System.Collections.Concurrent;

namespace LazyMigrate.TestKit;

/// <summary>
/// The <see cref="CustomerMapper"/>, counting its calls by entity id, and failing for the ids a test names: the mapper
/// calls per id are what a migration lock buys (one per id, across every instance), so the invariant suites count them.
/// </summary>
public sealed class CountingMapper(Func<string, bool>? failsFor = null)
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMapper<LegacyCustomer, Customer>
{
    private readonly CustomerMapper _inner = new();
    private readonly ConcurrentDictionary<string, int> _maps = new(StringComparer.Ordinal);

    /// <summary>Gets the number of <see cref="Map"/> calls per entity id.</summary>
    public IReadOnlyDictionary<string, int> MapCalls => _maps;

    /// <summary>Gets the number of <see cref="Map"/> calls for <paramref name="id"/>.</summary>
    public int MapCallsFor(string id) => _maps.GetValueOrDefault(id);

    public Customer Map(LegacyCustomer entity)
    {
        _maps.AddOrUpdate(entity.Id, 1, (_, calls) => calls + 1);
        if (failsFor?.Invoke(entity.Id) == true)
        {
            throw new FormatException($"The test mapper refuses '{entity.Id}'.");
        }

        return _inner.Map(entity);
    }

    public LegacyCustomer MapBack(Customer entity) => _inner.MapBack(entity);
}
