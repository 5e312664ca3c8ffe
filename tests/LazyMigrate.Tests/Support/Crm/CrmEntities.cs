namespace LazyMigrate.Tests.Support.Crm;

/// <summary>A customer of the CRM context: same type name as <see cref="Billing.Customer"/>, another type.</summary>
public sealed record Customer(string Name);

/// <summary>The CRM account a customer migrates to.</summary>
public sealed record Account(string Name);
