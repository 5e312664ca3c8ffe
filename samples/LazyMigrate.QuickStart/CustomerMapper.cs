namespace LazyMigrate.QuickStart;

/// <summary>
/// Maps legacy customers to the new model, and back for write-back. Registered once with
/// <c>services.AddMigrationMapper&lt;CustomerMapper&gt;()</c>, it serves both interfaces.
/// </summary>
public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMapper<LegacyCustomer, Customer>
{
    /// <inheritdoc/>
    public Customer Map(LegacyCustomer entity)
    {
        string[] name = entity.FullName.Split(
            ' ',
            2,
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
        );
        if (name.Length != 2)
        {
            // LazyMigrate turns this into a MigrationMappingException naming the id; nothing is written.
            throw new FormatException($"'{entity.FullName}' is not a first and a last name");
        }

        return new Customer(entity.Id, name[0], name[1], ToE164(entity.Phone));
    }

    /// <inheritdoc/>
    public LegacyCustomer MapBack(Customer entity) =>
        new(entity.Id, $"{entity.FirstName} {entity.LastName}", ToLegacyPhone(entity.Phone));

    /// <summary>"(555) 010-0042" to "+15550100042".</summary>
    private static string ToE164(string legacyPhone)
    {
        string digits = string.Concat(legacyPhone.Where(char.IsAsciiDigit));
        return digits.Length == 10
            ? "+1" + digits
            : throw new FormatException($"'{legacyPhone}' is not a 10-digit phone number");
    }

    /// <summary>"+15550100042" to "(555) 010-0042".</summary>
    private static string ToLegacyPhone(string e164) =>
        e164.Length == 12 && e164.StartsWith("+1", StringComparison.Ordinal)
            ? $"({e164[2..5]}) {e164[5..8]}-{e164[8..]}"
            : throw new FormatException($"'{e164}' is not a +1 phone number");
}
