using LazyMigrate.Outbox;
using LazyMigrate.QuickStart;

namespace LazyMigrate.WebService;

/// <summary>
/// One outbox item that failed every attempt: what it was for, and why it failed. No payload, but the error is the
/// failure's message, which may quote a value of the record (the sample's mapper names the name it refused).
/// </summary>
/// <param name="Id">The customer's id.</param>
/// <param name="Kind">
/// What the item brings up to date: <c>WriteBack</c>, <c>ForwardSync</c> or <c>EntityMigrated</c>.
/// </param>
/// <param name="Attempts">The attempts it failed.</param>
/// <param name="LastError">The last failure's message.</param>
public sealed record DeadLetter(string Id, string Kind, int Attempts, string? LastError);

/// <summary>
/// The operator's view of the dead letters: <c>GET /dead-letters</c> lists them (oldest first, at most 100), and
/// <c>POST /dead-letters/replay</c> makes them due again with no attempts (all, or one customer's with <c>?id=</c>),
/// once the record or the mapper is fixed. Both go through the migration's <see cref="IMigrationDispatcher{TOld,
/// TNew}"/>.
/// </summary>
public static class DeadLetters
{
    public static void MapDeadLetters(this IEndpointRouteBuilder app)
    {
        app.MapGet(
            "/dead-letters",
            async (IMigrationDispatcher<LegacyCustomer, Customer> dispatcher, CancellationToken ct) =>
                (await dispatcher.GetDeadLettersAsync(100, ct))
                    .Select(item => new DeadLetter(item.EntityId, item.Kind.ToString(), item.Attempts, item.LastError))
                    .ToList()
        );
        app.MapPost(
            "/dead-letters/replay",
            async (string? id, IMigrationDispatcher<LegacyCustomer, Customer> dispatcher, CancellationToken ct) =>
                new { replayed = await dispatcher.ReplayDeadLettersAsync(id is null ? null : [id], ct) }
        );
    }
}
