namespace LazyMigrate.Internal;

/// <summary>
/// Names one registered migration: its options name, lock-key prefix, event-id seed, metrics tag and the key of its
/// parts in the container. One per entity pair in a container, and one pair per name.
/// </summary>
internal abstract class MigrationDescriptor(string name)
{
    public string Name { get; } = name;

    /// <summary>Gets the pair spelled with full type names, for messages that must tell two pairs apart.</summary>
    public abstract string Pair { get; }
}

/// <summary>The descriptor of the migration of one entity pair.</summary>
internal sealed class MigrationDescriptor<TOld, TNew>(string name) : MigrationDescriptor(name)
    where TOld : class
    where TNew : class
{
    public override string Pair => MigrationName.Pair(typeof(TOld), typeof(TNew));
}
