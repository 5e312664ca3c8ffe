namespace LazyMigrate.Tests.Support;

/// <summary>The legacy model: one full-name field.</summary>
public sealed record OldCustomer(string FullName, string Email);

/// <summary>The new model: the name split in two.</summary>
public sealed record NewCustomer(string FirstName, string LastName, string Email);

/// <summary>A second entity pair, to show several migrations in one container.</summary>
public sealed record OldOrder(decimal Total);

/// <summary>The new model of the second pair.</summary>
public sealed record NewOrder(long TotalCents);
