using LazyMigrate.TestKit;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>
/// Clients of the new API saving and deleting random customers while a backfill runs: each writer owns every
/// <c>writers</c>-th id and writes one at a time, so the last write it made to an id is what the id must hold.
/// </summary>
internal sealed class ApiWriters(IMigratingRepository<LegacyCustomer, Customer> repository, IReadOnlyList<string> ids)
{
    /// <summary>What each id written must hold: its last saved version, or <see langword="null"/> if deleted.</summary>
    public IReadOnlyDictionary<string, int?> Expected { get; private set; } = new Dictionary<string, int?>();

    /// <summary>Writes until <paramref name="stop"/>; every writer starts from its own seed.</summary>
    public async Task RunAsync(int writers, int seed, CancellationToken stop)
    {
        var written = new Dictionary<string, int?>[writers];
        await Task.WhenAll(
            Enumerable
                .Range(0, writers)
                .Select(w => Task.Run(() => WriteAsync(w, writers, new Random(seed + w), written[w] = new(), stop)))
        );
        Expected = written.SelectMany(w => w).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }

    private async Task WriteAsync(
        int writer,
        int writers,
        Random random,
        Dictionary<string, int?> written,
        CancellationToken stop
    )
    {
        int version = 2;
        while (!stop.IsCancellationRequested)
        {
            string id = ids[(random.Next(ids.Count / writers) * writers) + writer];
            if (random.Next(10) < 7)
            {
                await repository.SaveAsync(id, Customer.Create(id, version));
                written[id] = version++;
            }
            else
            {
                await repository.DeleteAsync(id);
                written[id] = null;
            }
        }
    }
}
