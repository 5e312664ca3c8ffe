using System.Globalization;
using LazyMigrate.QuickStart;

namespace LazyMigrate.WebService;

/// <summary>
/// The old API, written as legacy code is: it reads and writes the legacy table with plain SQL and knows nothing of
/// LazyMigrate, beyond <see cref="ILegacyWrites"/> around its writes (nothing at all on PostgreSQL, where a trigger
/// records them).
/// </summary>
public static class OldApi
{
    /// <summary>The most rows a page returns, whatever the client asks.</summary>
    public const int MaxPage = 1_000;

    public static void MapOldApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1/customers");

        v1.MapGet(
            "",
            async (LegacyTable legacy, CancellationToken ct, int after = 0, int limit = 100) =>
                limit is < 1 or > MaxPage
                    ? Results.Problem($"limit must be 1 to {MaxPage}", statusCode: StatusCodes.Status400BadRequest)
                    : Results.Ok(await legacy.ListAsync(after, limit, ct))
        );

        // The id is taken as text and checked here rather than by an {id:int} route constraint, which answers a bare
        // 404 for an id past int range: as v2 does, a bad id is a 400 that says why.
        v1.MapGet(
            "/{id}",
            async (string id, LegacyTable legacy, CancellationToken ct) =>
                Key(id) is not { } key ? BadId(id)
                : await legacy.FindAsync(key, ct) is { } row ? Results.Ok(row)
                : Results.NotFound()
        );

        v1.MapPut(
            "/{id}",
            async (
                string id,
                LegacyCustomer customer,
                LegacyTable legacy,
                ILegacyWrites writes,
                CancellationToken ct
            ) =>
            {
                if (Key(id) is not { } key)
                {
                    return BadId(id);
                }

                if (Invalid(key, customer) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                await writes.WriteAsync(
                    key,
                    async c =>
                    {
                        await legacy.UpsertAsync(key, customer, c);
                        return true;
                    },
                    ct
                );
                return Results.NoContent();
            }
        );

        v1.MapDelete(
            "/{id}",
            async (string id, LegacyTable legacy, ILegacyWrites writes, CancellationToken ct) =>
            {
                if (Key(id) is not { } key)
                {
                    return BadId(id);
                }

                // A delete that found no row changed nothing: there is nothing to record.
                bool deleted = await writes.WriteAsync(key, c => legacy.DeleteAsync(key, c), ct);
                return deleted ? Results.NoContent() : Results.NotFound();
            }
        );
    }

    /// <summary>
    /// The legacy table's key for <paramref name="id"/>: a positive int, digits only. Ids from 1 up, since the list
    /// pages from <c>after=0</c>: a row at 0 or below would never be listed.
    /// </summary>
    private static int? Key(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int key) && key > 0 ? key : null;

    private static IResult BadId(string id) =>
        Results.Problem(
            $"customer id '{id}' is invalid: the legacy table's key is a positive int, 1 to {int.MaxValue}",
            statusCode: StatusCodes.Status400BadRequest
        );

    /// <summary>
    /// The legacy API's own checks: a name and a phone, nothing about their form; and no NUL character (U+0000),
    /// which the legacy table's text columns cannot hold (PostgreSQL refuses it, and the write would fail).
    /// </summary>
    private static string? Invalid(int id, LegacyCustomer customer) =>
        string.IsNullOrWhiteSpace(customer.FullName) || string.IsNullOrWhiteSpace(customer.Phone)
            ? $"customer {id}: fullName and phone are required"
        : (
            customer.FullName.Contains('\0', StringComparison.Ordinal) ? "fullName"
            : customer.Phone.Contains('\0', StringComparison.Ordinal) ? "phone"
            : null
        )
            is { } field
            ? $"customer {id}: {field} holds a NUL character (U+0000), which the legacy table cannot hold"
        : null;
}
