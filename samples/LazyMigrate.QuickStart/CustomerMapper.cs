namespace LazyMigrate.QuickStart;

/// <summary>
/// Maps legacy customers to the new model, and merges saved customers back into the legacy row for write-back.
/// Registered once with <c>services.AddMigrationMapper&lt;CustomerMapper&gt;()</c>, it serves both interfaces.
/// </summary>
/// <remarks>
/// A merger rather than a reverse mapper (<c>IReverseMigrationMapper.MapBack(Customer)</c>): the new model has no
/// credit limit, so a record built from the customer alone would write the limit back as nothing. The merger gets the
/// legacy row as it is now and changes only what the new model owns.
/// </remarks>
public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMerger<LegacyCustomer, Customer>
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

        return new Customer(name[0], name[1], ToE164(entity.Phone));
    }

    /// <inheritdoc/>
    public LegacyCustomer MergeBack(Customer entity, LegacyCustomer? current)
    {
        string fullName = $"{entity.FirstName} {entity.LastName}";
        string phone = ToLegacyPhone(entity.Phone);

        // No current row: a customer created through the new API (or saved again after a delete). The legacy
        // application gives its own new customers the column's default limit; so does the new API.
        return current is null
            ? new LegacyCustomer(fullName, phone, LegacyCustomers.DefaultCreditLimit)
            : current with
            {
                FullName = fullName,
                Phone = phone,
            };
    }

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
