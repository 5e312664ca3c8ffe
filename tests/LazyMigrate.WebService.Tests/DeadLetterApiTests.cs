using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LazyMigrate.TestKit;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// A v1 record the mapper refuses, written to a customer that had migrated, is a dead letter of the forward sync (at
/// once with <c>--max-attempts 1</c>); the operator lists it, replays it, and a valid v1 write revives it, over HTTP.
/// </summary>
[Collection(WebServiceCollection.Name)]
public sealed class DeadLetterApiTests : WebServiceTests
{
    protected override string[] Arguments => ["--records", "300", "--write-back", "sync", "--max-attempts", "1"];

    [Fact]
    public async Task AForwardSyncTheMapperRefuses_IsListed_Replayed_AndRevivedByAValidV1Write()
    {
        V2Customer migrated = (await Http.GetFromJsonAsync<V2Customer>("/v2/customers/13"))!;

        await PutV1Async(new V1Customer("Cher", "(555) 010-0013", 1));
        await Eventually.TrueAsync(
            async () => await DeadLettersAsync() is [_],
            what: "the refused forward sync of customer 13 to be dead-lettered"
        );
        DeadLetter dead = Assert.Single(await DeadLettersAsync());
        Assert.Equal(new DeadLetter("13", "ForwardSync", 1, dead.LastError), dead);
        Assert.Contains("FormatException", dead.LastError, StringComparison.Ordinal);
        Assert.Equal(1, (await StatusAsync()).GetProperty("deadLetters").GetInt64());
        Assert.Equal(migrated, await Http.GetFromJsonAsync<V2Customer>("/v2/customers/13"));

        // A replay names what it made due again: nothing for a customer with no dead letter.
        Assert.Equal(0, await ReplayAsync("/dead-letters/replay?id=14"));
        Assert.Equal(1, await ReplayAsync("/dead-letters/replay?id=13"));
        // Due again, the record still refused: the dispatcher tries it once more and dead-letters it a second time.
        await Eventually.TrueAsync(
            () => DeadLetteredTimes() == 2,
            what: "the replayed forward sync to be tried again and dead-lettered again"
        );

        await PutV1Async(new V1Customer("Cher Sarkisian", "(555) 010-0013", 1));
        await Eventually.TrueAsync(
            async () =>
                await Http.GetFromJsonAsync<V2Customer>("/v2/customers/13")
                == new V2Customer("Cher", "Sarkisian", "+15550100013"),
            what: "the valid v1 write to reach v2"
        );
        await Eventually.TrueAsync(
            async () => (await StatusAsync()).GetProperty("deadLetters").GetInt64() == 0,
            what: "the dead letter to be gone"
        );
        Assert.Empty(await DeadLettersAsync());
    }

    private int DeadLetteredTimes() =>
        Output
            .Split('\n')
            .Count(line =>
                line.Contains("ForwardSync of entity 13 failed 1 times and was dead-lettered", StringComparison.Ordinal)
            );

    private async Task PutV1Async(V1Customer customer) =>
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PutAsJsonAsync("/v1/customers/13", customer)).StatusCode);

    private async Task<List<DeadLetter>> DeadLettersAsync() =>
        (await Http.GetFromJsonAsync<List<DeadLetter>>("/dead-letters"))!;

    private async Task<JsonElement> StatusAsync() =>
        (await Http.GetFromJsonAsync<JsonElement>("/status")).GetProperty("migrations")[0];

    private async Task<int> ReplayAsync(string path)
    {
        HttpResponseMessage response = await Http.PostAsync(path, content: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32();
    }

    private sealed record DeadLetter(string Id, string Kind, int Attempts, string? LastError);
}
