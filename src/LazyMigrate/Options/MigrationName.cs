namespace LazyMigrate;

/// <summary>
/// The name of a migration: its options name, its lock key prefix and its metrics tag. Derived from the two types so
/// that every instance of a service computes the same name without configuration.
/// </summary>
internal static class MigrationName<TOld, TNew>
{
    public static readonly string Value = $"{typeof(TOld).Name}->{typeof(TNew).Name}";
}
