namespace LazyMigrate.Tests.Support.Billing;

/// <summary>A customer of the billing context: same type name as <see cref="Crm.Customer"/>, another type.</summary>
public sealed record Customer(string Name);

/// <summary>The billing account a customer migrates to.</summary>
public sealed record Account(string Name);
