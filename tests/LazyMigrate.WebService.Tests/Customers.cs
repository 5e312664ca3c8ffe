using System.Globalization;

namespace LazyMigrate.WebService.Tests;

/// <summary>A legacy customer as the old API's JSON has it (<c>GET /v1/customers/{id}</c>, a PUT's body).</summary>
public sealed record V1Customer(string FullName, string Phone, int CreditLimit);

/// <summary>A row of the old API's list and single reads: the legacy JSON with the row's key.</summary>
public sealed record V1Row(int Id, string FullName, string Phone, int CreditLimit)
{
    public V1Customer Customer => new(FullName, Phone, CreditLimit);
}

/// <summary>A customer as the new API's JSON has it (<c>GET /v2/customers/{id}</c>).</summary>
public sealed record V2Customer(string FirstName, string LastName, string Phone);

/// <summary>
/// The test's own statement of the service's mapping, from the outside: the legacy full name is "first last", the
/// legacy phone "(555) 010-0042" is "+15550100042" in the new model.
/// </summary>
public static class CustomerViews
{
    /// <summary>What the new API shows for a legacy record.</summary>
    public static V2Customer ToV2(V1Customer legacy)
    {
        string[] name = legacy.FullName.Split(' ', 2);
        return new V2Customer(name[0], name[1], "+1" + string.Concat(legacy.Phone.Where(char.IsAsciiDigit)));
    }

    /// <summary>What the old API shows for a customer the new API saved over a row with this credit limit.</summary>
    public static V1Customer ToV1(V2Customer customer, int creditLimit) =>
        new(
            $"{customer.FirstName} {customer.LastName}",
            $"({customer.Phone[2..5]}) {customer.Phone[5..8]}-{customer.Phone[8..]}",
            creditLimit
        );

    /// <summary>A phone number made of 10 random digits, as the new model writes it.</summary>
    public static string RandomE164(Random random) =>
        string.Create(CultureInfo.InvariantCulture, $"+1{random.Next(200, 1000)}{random.Next(0, 10_000_000):D7}");
}
