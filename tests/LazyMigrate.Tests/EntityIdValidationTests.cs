using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

/// <summary>An id no store can key on fails the same way whatever the call, before any store or lock call.</summary>
public sealed class EntityIdValidationTests
{
    // By name: xunit would replace a lone surrogate in theory data with U+FFFD on its way to the test.
    private static readonly Dictionary<string, string> Unkeyable = new()
    {
        ["nul"] = "nul\0inside",
        ["lone-high-surrogate"] = "lone\uD800surrogate",
        ["lone-low-surrogate"] = "\uDC00",
        ["swapped-surrogates"] = "\uDE00\uD83D",
    };

    private static readonly Dictionary<
        string,
        Func<IMigratingRepository<OldCustomer, NewCustomer>, string, ValueTask>
    > Calls = new()
    {
        ["get"] = async (r, id) => await r.GetAsync(id),
        ["get_many"] = async (r, id) => await r.GetManyAsync([MigrationHarness.Id(0), id]),
        ["save"] = (r, id) => r.SaveAsync(id, MigrationHarness.Mapped(0)),
        ["delete"] = (r, id) => r.DeleteAsync(id),
        ["migrate"] = async (r, id) => await r.MigrateAsync(id),
    };

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (string call in Calls.Keys)
        {
            foreach (string id in Unkeyable.Keys)
            {
                cases.Add(call, id);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AnUnkeyableId_IsAnInvalidEntityId_BeforeAnyStoreOrLockCall(string call, string name)
    {
        string id = Unkeyable[name];
        var shared = new SharedStores();
        var store = new HookedNewStore<NewCustomer>(shared.New);
        bool newStoreRead = false;
        store.BeforeFind = () => newStoreRead = true;
        await using var harness = MigrationHarness
            .Create(shared, o => o.WriteBackMode = WriteBackMode.Sync, b => b.UseNewStore(store))
            .SeedLegacy(1);

        var failure = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await Calls[call](harness.Repository, id)
        );

        Assert.Equal(id, failure.EntityId);
        Assert.False(newStoreRead);
        Assert.Equal(0, shared.Lock.AcquireCount);
        Assert.Equal(0, shared.Old.ReadCount);
        Assert.Equal(0, shared.Old.WriteCount);
        Assert.Equal(0, shared.New.Count);
    }

    [Fact]
    public void ThrowIfInvalid_AcceptsAnyOtherText_IncludingAPairedSurrogate()
    {
        foreach (string id in new[] { "", " ", "O'Brien", "emoji-\U0001F600", "tab\there", "日本" })
        {
            InvalidEntityIdException.ThrowIfInvalid(id);
        }

        Assert.Throws<ArgumentNullException>(() => InvalidEntityIdException.ThrowIfInvalid(null!));
    }
}
