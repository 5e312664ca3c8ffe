namespace LazyMigrate;

/// <summary>
/// Names one registered migration: its options name, lock-key prefix, event-id seed and metrics tag. One per entity
/// pair in a container.
/// </summary>
internal sealed class MigrationDescriptor<TOld, TNew>(string name)
    where TOld : class
    where TNew : class
{
    public string Name { get; } = name;
}
