using System.Globalization;
using LazyMigrate.QuickStart;

namespace LazyMigrate.WebService;

/// <summary>
/// The new API: every call through <see cref="IMigratingRepository{TOld, TNew}"/>, which migrates a customer on its
/// first read and writes every change back to the legacy table for the old API's readers.
/// </summary>
public static class NewApi
{
    public static void MapNewApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder v2 = app.MapGroup("/v2/customers");

        v2.MapGet(
            "/{id}",
            async (string id, IMigratingRepository<LegacyCustomer, Customer> customers, CancellationToken ct) =>
                await customers.GetAsync(id, ct) is { } customer ? Results.Ok(customer) : Results.NotFound()
        );

        v2.MapPut(
            "/{id}",
            async (
                string id,
                Customer customer,
                IMigratingRepository<LegacyCustomer, Customer> customers,
                CancellationToken ct
            ) =>
            {
                if (Invalid(id, customer) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                await customers.SaveAsync(id, customer, ct);
                return Results.NoContent();
            }
        );

        v2.MapDelete(
            "/{id}",
            async (string id, IMigratingRepository<LegacyCustomer, Customer> customers, CancellationToken ct) =>
            {
                await customers.DeleteAsync(id, ct);
                return Results.NoContent();
            }
        );
    }

    /// <summary>
    /// What the new API refuses before it writes anything: the write-back could not map it into the legacy row.
    /// </summary>
    private static string? Invalid(string id, Customer customer) =>
        string.IsNullOrWhiteSpace(customer.FirstName) || string.IsNullOrWhiteSpace(customer.LastName)
            ? $"customer {id}: firstName and lastName are required"
        : customer.FirstName.Contains(' ', StringComparison.Ordinal)
            ? $"customer {id}: firstName is one word (the legacy fullName is \"first last\")"
        : customer.Phone is not { Length: 12 } phone
        || !phone.StartsWith("+1", StringComparison.Ordinal)
        || !long.TryParse(phone.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? $"customer {id}: phone must be +1 and 10 digits"
        : null;
}
