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

        v1.MapGet(
            "/{id:int}",
            async (int id, LegacyTable legacy, CancellationToken ct) =>
                await legacy.FindAsync(id, ct) is { } row ? Results.Ok(row) : Results.NotFound()
        );

        v1.MapPut(
            "/{id:int}",
            async (int id, LegacyCustomer customer, LegacyTable legacy, ILegacyWrites writes, CancellationToken ct) =>
            {
                // The legacy API's own checks: a name and a phone, nothing about their form.
                if (string.IsNullOrWhiteSpace(customer.FullName) || string.IsNullOrWhiteSpace(customer.Phone))
                {
                    return Results.Problem(
                        $"customer {id}: fullName and phone are required",
                        statusCode: StatusCodes.Status400BadRequest
                    );
                }

                await writes.WriteAsync(
                    id,
                    async c =>
                    {
                        await legacy.UpsertAsync(id, customer, c);
                        return true;
                    },
                    ct
                );
                return Results.NoContent();
            }
        );

        v1.MapDelete(
            "/{id:int}",
            async (int id, LegacyTable legacy, ILegacyWrites writes, CancellationToken ct) =>
            {
                // A delete that found no row changed nothing: there is nothing to record.
                bool deleted = await writes.WriteAsync(id, c => legacy.DeleteAsync(id, c), ct);
                return deleted ? Results.NoContent() : Results.NotFound();
            }
        );
    }
}
