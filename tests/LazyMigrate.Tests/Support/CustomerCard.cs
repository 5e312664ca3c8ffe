namespace LazyMigrate.Tests.Support;

/// <summary>A second new model of <see cref="OldCustomer"/>: two migrations that share their old entity type.</summary>
public sealed record CustomerCard(string Label);
