using LazyMigrate.InMemory;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// The hand-written decorator the benchmarks compare against: read new, on a miss read old, map, insert-if-absent.
/// No lock, no single-flight, no re-read when the insert loses, no event, no resilience, no metrics.
/// </summary>
public sealed class NaiveMigratingReader(InMemoryOldStore<OldProfile> oldStore, InMemoryNewStore<NewProfile> newStore)
{
    public async ValueTask<NewProfile?> GetAsync(string id)
    {
        NewStoreRead<NewProfile> read = await newStore.FindAsync(id);
        if (read.State != NewStoreState.Missing)
        {
            return read.Value;
        }

        OldProfile? old = await oldStore.FindAsync(id);
        if (old is null)
        {
            return null;
        }

        NewProfile mapped = NewProfile.From(old);
        await newStore.InsertIfAbsentAsync(id, mapped);
        return mapped;
    }
}
