namespace LazyMigrate.Benchmarks;

/// <summary>The entity as the old store holds it.</summary>
public sealed record OldProfile(string Id, string FullName, int Age);

/// <summary>The entity as the new store holds it.</summary>
public sealed record NewProfile(string Id, string FirstName, string LastName, int Age)
{
    /// <summary>The mapper the benchmarks register, so both sides map the same way.</summary>
    public static NewProfile From(OldProfile old)
    {
        int space = old.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new NewProfile(old.Id, old.FullName[..space], old.FullName[(space + 1)..], old.Age);
    }

    /// <summary>The reverse mapper of the write-back benchmarks.</summary>
    public static OldProfile ToOld(NewProfile profile) =>
        new(profile.Id, $"{profile.FirstName} {profile.LastName}", profile.Age);
}
