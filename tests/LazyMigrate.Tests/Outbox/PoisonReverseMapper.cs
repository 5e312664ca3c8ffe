using System.Collections.Concurrent;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// A reverse mapper that throws for the customers whose first name is in <see cref="Poisoned"/> (until a test takes
/// them out: a fix deployed) and records when it was called for each, on the test's clock.
/// </summary>
internal sealed class PoisonReverseMapper(TimeProvider clock) : IReverseMigrationMapper<OldCustomer, NewCustomer>
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _calls = new(StringComparer.Ordinal);

    public const string Message = "this customer cannot be mapped back";

    /// <summary>Gets the first names that make <see cref="MapBack"/> throw.</summary>
    public ConcurrentDictionary<string, bool> Poisoned { get; } = new(StringComparer.Ordinal);

    public static string FirstNameOf(int n) => $"First{n}";

    public IReadOnlyList<DateTimeOffset> CallsFor(int n) =>
        _calls.TryGetValue(FirstNameOf(n), out var calls) ? [.. calls] : [];

    public void Poison(params int[] customers)
    {
        foreach (int n in customers)
        {
            Poisoned[FirstNameOf(n)] = true;
        }
    }

    public OldCustomer MapBack(NewCustomer entity)
    {
        _calls.GetOrAdd(entity.FirstName, static _ => new()).Enqueue(clock.GetUtcNow());
        if (Poisoned.ContainsKey(entity.FirstName))
        {
            throw new InvalidOperationException(Message);
        }

        return new OldCustomer($"{entity.FirstName} {entity.LastName}", entity.Email);
    }
}
